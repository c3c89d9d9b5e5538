"""A lambda step's `payload` is any JSON, as docs/workflow-language.md says ("any JSON;
strings may hold ${...} templates") and as Lambda's Invoke takes any JSON document.

Was: models.py typed it ``dict[str, Any]``, so `payload: "${steps.a.output}"` (the
upstream output passed whole) was refused with `steps[1].payload: Input should be a
valid dictionary`. Now a template giving any value, a list or a string is a payload,
and the function gets it as rendered.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.testing import run_workflow, step_of

runner = CliRunner()

JARGON = ("Input should be", "valid dictionary", "valid list", "type=")


def _no_jargon(message: str) -> None:
    said = [word for word in JARGON if word in message]
    said += re.findall(r"\bloc\b", message)
    assert not said, f"pydantic's words {said} in: {message}"


def test_a_lambda_payload_given_as_one_template_is_said_in_words(tmp_path: Path) -> None:
    """docs/workflow-language.md annotates `payload:` as "any JSON; strings may hold
    ${...} templates", so a newcomer passed the upstream output whole (`payload:
    "${steps.a.output}"`) and the definition was refused with `steps[1].payload: Input
    should be a valid dictionary`. Now the payload takes what the docs say."""
    text = (
        "name: m\nsteps:\n  - {id: a, type: lambda, function: f}\n"
        '  - {id: b, type: lambda, function: f, depends_on: [a], payload: "${steps.a.output}"}\n'
    )
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)], env={"COLUMNS": "400"})
    _no_jargon(" ".join(result.output.split()))


PAYLOAD_FNS = """
def extract(event):
    return {"rows": [1, 2, 3]}


def echo(event):
    return {"got": event["payload"]}
"""


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("${steps.a.output}", {"rows": [1, 2, 3]}),
        ("${steps.a.output.rows}", [1, 2, 3]),
        (["${steps.a.output.rows[0]}", "fixed"], [1, "fixed"]),
        ("day ${string(steps.a.output.rows[2])}", "day 3"),
    ],
    ids=["the-output-whole", "a-list-template", "a-list", "a-string"],
)
def test_a_payload_that_is_not_a_map_reaches_the_function_as_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload: Any, expected: Any
) -> None:
    """A payload was a map or nothing: a template giving the upstream output whole, a
    list, a string were refused at push. Now each runs, and the local stand-in (the
    function mapped in podium.toml's place) gets it in ``event["payload"]``, as a
    deployed Lambda gets the same event."""
    (tmp_path / "any_json_payload_fns.py").write_text(PAYLOAD_FNS)
    monkeypatch.syspath_prepend(str(tmp_path))
    view = run_workflow(
        {
            "name": "any_json_payload",
            "steps": [
                {"id": "a", "type": "lambda", "function": "extract-fn"},
                {
                    "id": "b",
                    "type": "lambda",
                    "function": "echo-fn",
                    "depends_on": ["a"],
                    "payload": payload,
                },
            ],
        },
        functions={
            "extract-fn": "any_json_payload_fns:extract",
            "echo-fn": "any_json_payload_fns:echo",
        },
    )
    assert view.run.status.value == "SUCCEEDED", step_of(view, "b").error
    assert step_of(view, "b").output == {"got": expected}
