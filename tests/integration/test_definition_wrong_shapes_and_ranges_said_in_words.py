"""A newcomer's mistakes in a definition, said by `podium validate` with their path and
the fix (README, step 2: "Every problem is listed with its path and the fix").

Was: the top-level `steps:` written as a map had words of its own ("steps must be a list
of steps, e.g. [{id: a, type: noop}]"), and so did a wrong scalar type and a bad
duration; but the same mistakes one level down, and every number out of its range,
reached the user as pydantic's message ("Input should be a valid dictionary", "Input
should be less than or equal to 99"): core/dsl/load.py ``_issue_from`` fell through to
``err["msg"]`` for ``list_type``, ``dict_type``, ``greater_than_equal`` and
``less_than_equal``; and a timeout past 120 days was said in e-notation
("between 1 and 1.0368e+07 seconds, not 1.728e+07").
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()

JARGON = ("Input should be", "valid dictionary", "valid list", "type=")


def _problems(tmp_path: Path, text: str) -> list[str]:
    """`podium validate` of ``text``: the problem lines (each `✗ path: message`)."""
    path = tmp_path / "flow.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["validate", str(path)], env={"COLUMNS": "400"})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    return [line.removeprefix("✗ ") for line in lines if line.startswith("✗")]


def _only(tmp_path: Path, text: str, where: str) -> str:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and problems[0].startswith(f"{where}: "), problems
    return problems[0]


def _no_jargon(message: str) -> None:
    said = [word for word in JARGON if word in message]
    said += re.findall(r"\bloc\b", message)
    assert not said, f"pydantic's words {said} in: {message}"


# -- a list where a map goes, a map where a list goes (indentation, a flow list) --------

SHAPES = {
    # The README's own foreach written as a newcomer would first try it: the list itself.
    "foreach-over-a-list": (
        "name: m\nsteps:\n  - {id: each, type: foreach, over: [emea, amer],"
        " steps: [{id: a, type: noop}]}\n",
        "steps[0].over",
    ),
    "foreach-over-a-template": (
        "name: m\nparams: {regions: {type: list, default: [emea]}}\nsteps:\n"
        '  - {id: each, type: foreach, over: "${params.regions}", steps: [{id: a, type: noop}]}\n',
        "steps[0].over",
    ),
    # `retry:` indented as one retrier instead of a list of them.
    "retry-as-a-map": (
        "name: m\nsteps:\n  - id: a\n    type: lambda\n    function: f\n    retry:\n"
        "      errors: [ValueError]\n      max_attempts: 2\n",
        "steps[0].retry",
    ),
    "loop-steps-as-a-map": (
        "name: m\nsteps:\n  - {id: each, type: foreach, over: {x: [1]},"
        " steps: {id: a, type: noop}}\n",
        "steps[0].steps",
    ),
    "triggers-as-a-map": (
        'name: m\nsteps: [{id: a, type: noop}]\ntriggers:\n  cron: "0 6 * * *"\n',
        "triggers",
    ),
    "params-as-a-list": (
        "name: m\nparams:\n  - {name: date, type: string}\nsteps: [{id: a, type: noop}]\n",
        "params",
    ),
    "approvers-as-text": (
        "name: m\nsteps: [{id: a, type: approval, message: ok?, approvers: alice}]\n",
        "steps[0].approvers",
    ),
    "wait-for-as-a-map": (
        "name: m\nsteps: [{id: a, type: noop, wait_for: {signal: s}}]\n",
        "steps[0].wait_for",
    ),
}


@pytest.mark.parametrize("case", list(SHAPES), ids=list(SHAPES))
def test_a_list_or_a_map_of_the_wrong_shape_is_said_with_what_to_write(
    tmp_path: Path, case: str
) -> None:
    """A foreach's `over` given the list itself (`over: [emea, amer]` or `over:
    "${params.regions}"`), a `retry:` indented as one map, a loop's `steps:` or the
    `triggers:` written as a map, `params:` written as a list: the user read `Input
    should be a valid dictionary` (or `... valid list`), the place but not the fix. Now
    it says what the field takes, with an example, as the top-level `steps:` did
    (`over: {region: [emea, amer]}`, "a list of retriers, e.g. retry: [{...}]")."""
    text, where = SHAPES[case]
    message = _only(tmp_path, text, where)
    _no_jargon(message)
    assert "e.g." in message or "{" in message or "[" in message, message


# -- a number out of its range ------------------------------------------------------

# (the definition's step or workflow lines, where, the bound the message should name)
RANGES = {
    "retries-100": (
        "steps: [{id: a, type: lambda, function: f, retries: 100}]",
        "steps[0].retries",
        "99",
    ),
    "max-attempts-100": (
        "steps: [{id: a, type: lambda, function: f, retry: [{max_attempts: 100}]}]",
        "steps[0].retry[0].max_attempts",
        "99",
    ),
    "backoff-rate-11": (
        "steps: [{id: a, type: lambda, function: f, retry: [{backoff_rate: 11}]}]",
        "steps[0].retry[0].backoff_rate",
        "10",
    ),
    "foreach-concurrency-0": (
        "steps: [{id: l, type: foreach, over: {x: [1]}, concurrency: 0,"
        " steps: [{id: a, type: noop}]}]",
        "steps[0].concurrency",
        "1,000",
    ),
    "max-iterations-100001": (
        'steps: [{id: w, type: while, state: {n: 0}, condition: "state.n < 3",'
        " max_iterations: 100001, steps: [{id: a, type: noop}]}]",
        "steps[0].max_iterations",
        "100,000",
    ),
    "concurrency-limit-0": (
        "steps: [{id: a, type: noop, concurrency: {key: warehouse, limit: 0}}]",
        "steps[0].concurrency.limit",
        "1",
    ),
    "max-parallel-steps-0": (
        "max_parallel_steps: 0\nsteps: [{id: a, type: noop}]",
        "max_parallel_steps",
        "1",
    ),
    "sleep-negative": ("steps: [{id: a, type: sleep, seconds: -1}]", "steps[0].seconds", "0"),
    "heartbeat-0": (
        "steps: [{id: a, type: wait_for_callback, heartbeat_seconds: 0}]",
        "steps[0].heartbeat_seconds",
        "1",
    ),
    "max-catchup-0": (
        'steps: [{id: a, type: noop}]\ntriggers: [{cron: "0 6 * * *", catchup: all,'
        " max_catchup: 0}]",
        "triggers[0].max_catchup",
        "1",
    ),
}


@pytest.mark.parametrize("case", list(RANGES), ids=list(RANGES))
def test_a_number_out_of_its_range_names_the_range(tmp_path: Path, case: str) -> None:
    """`retries: 100`, a foreach's `concurrency: 0`, `max_iterations: 100001`, a
    concurrency `limit: 0`, ...: the user read `Input should be less than or equal to
    99` (or `greater than or equal to 1`), pydantic's words. Now the field's range is
    named, both ends, with thousands separators (`100 is more than 99 (allowed: 0 to
    99)`, `0 is less than 1 (allowed: 1 to 1,000)`)."""
    body, where, bound = RANGES[case]
    message = _only(tmp_path, f"name: m\n{body}\n", where)
    _no_jargon(message)
    assert bound in message, message


def test_a_timeout_past_120_days_names_the_limit_in_days_not_in_e_notation(
    tmp_path: Path,
) -> None:
    """`timeout: 200d` was refused with `timeout must be between 1 and 1.0368e+07 seconds,
    not 1.728e+07`: the docs' limit (1 s to 120 days) in scientific notation, and the
    user's own value too (models.py formatted with `:g`). Now it reads `timeout is at
    most 120 days (10,368,000 s), not 200d (17,280,000 s)`."""
    message = _only(
        tmp_path,
        "name: m\nsteps: [{id: a, type: lambda, function: f, timeout: 200d}]\n",
        "steps[0].timeout",
    )
    assert not re.search(r"\de[+-]\d", message), message
    assert "120 days" in message or "10,368,000" in message or "10368000" in message, message
