"""A new user's tour: `podium validate` "lists every problem with its path and the fix"
(README, step 2; docs/workflow-language.md, first paragraph).

It did not when one step had a field error (a `retry_delay_seconds` without `retries`, a
sleep's `seconds: "soon"`): the graph checks still run (`unknown step 'extrct'` is listed
beside it), but the expression checks of every other step were skipped, so a condition
written as a template, a condition that is always a number, or an unknown param in a
`when:` only showed up after the first problem was fixed and the file validated again.
Now the steps with a field error stand in as noops for a second look at the others
(core/dsl/load.py ``_expression_issues_beside``).
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()

TWO_PROBLEMS = """
name: two_problems
params: {n: {type: int, default: 1}}
steps:
  - {id: a, type: noop, retry_delay_seconds: 5}
  - {id: b, type: noop, depends_on: [{step: a, when: "params.nn > 1"}]}
"""

THREE_PROBLEMS = """
name: three_problems
params: {n: {type: int, default: 1}}
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [{step: a, when: "${steps.a.output.ok}"}]}
  - {id: c, type: noop, depends_on: [{step: a, when: "params.n + 1"}]}
  - {id: w, type: sleep, seconds: "soon"}
"""


def _validate(tmp_path: Path, text: str) -> str:
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    return result.output


def test_an_unknown_param_in_a_condition_is_listed_beside_a_field_error(tmp_path: Path) -> None:
    out = _validate(tmp_path, TWO_PROBLEMS)
    assert "steps[0]: retry_delay_seconds needs 'retries: N'" in out
    assert "steps[1].depends_on[0].when: unknown param 'nn'" in out, out


def test_condition_mistakes_are_listed_beside_a_field_error(tmp_path: Path) -> None:
    out = _validate(tmp_path, THREE_PROBLEMS)
    assert "steps[3].seconds" in out
    assert "steps[1].depends_on[0].when: a condition is an expression, not a template" in out, out
    assert "steps[2].depends_on[0].when: this condition is always a number" in out, out
