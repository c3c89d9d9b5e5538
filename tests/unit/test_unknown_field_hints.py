"""An unknown field is answered with the fields of the thing it is in, at any depth: a
retry policy's, a trigger's, a loop body's step's (by its type), a param's (by their
YAML names). The hint listed the enclosing *step's* fields for anything inside a step
(a retry policy's ``bogus_field`` was told to use ``depends_on``, ``emit``...), and a
loop body's step got its loop's fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition

NOOP = {"id": "a", "type": "noop"}


def _problem(definition: dict[str, Any]) -> str:
    with pytest.raises(DefinitionError) as info:
        load_definition(json.dumps(definition))
    return str(info.value)


@pytest.mark.parametrize(
    ("definition", "where", "listed", "not_listed"),
    [
        (
            {"name": "w", "steps": [{**NOOP, "retry": [{"errors": ["x"], "bogus": 1}]}]},
            "steps[0].retry[0].bogus",
            "backoff_rate, errors, interval",
            "depends_on",
        ),
        (
            {
                "name": "w",
                "steps": [
                    {
                        "id": "l",
                        "type": "foreach",
                        "over": {"i": [1]},
                        "steps": [{"id": "b", "type": "sleep", "seconds": 1, "bogus": 1}],
                    }
                ],
            },
            "steps[0].steps[0].bogus",
            "seconds",
            "over",
        ),
        (
            {"name": "w", "steps": [NOOP], "triggers": [{"cron": "0 6 * * *", "bogus": 1}]},
            "triggers[0].bogus",
            "catchup, cron",
            "steps",
        ),
        (
            {"name": "w", "params": {"p": {"type": "string", "bogus": 1}}, "steps": [NOOP]},
            "params.p.bogus",
            "required, type, validate",
            "validate_",
        ),
        (
            {"name": "w", "steps": [{**NOOP, "wait_for": [{"signal": "s", "bogus": 1}]}]},
            "steps[0].wait_for[0].bogus",
            "match, signal, since",
            "depends_on",
        ),
    ],
    ids=["retry", "loop-body", "trigger", "param", "wait_for"],
)
def test_the_hint_lists_the_fields_of_the_thing_the_field_is_in(
    definition: dict[str, Any], where: str, listed: str, not_listed: str
) -> None:
    problem = _problem(definition)
    assert f"{where}: unknown field 'bogus'" in problem, problem
    allowed = problem.split("allowed fields: ")[1].split(", ")
    assert set(listed.split(", ")) <= set(allowed), problem
    assert not_listed not in allowed, problem


@pytest.mark.parametrize(
    ("step", "where", "said"),
    [
        (
            {**NOOP, "retry_delay_seconds": 5},
            "steps[0]",
            "retry_delay_seconds needs 'retries: N' beside it",
        ),
        (
            {**NOOP, "concurrency": {"key": "run:01ARZ3NDEKTSV4RRFFQ69G5FAV", "limit": 1}},
            "steps[0].concurrency.key",
            "keys starting with 'run:' are Podium's own",
        ),
    ],
    ids=["delay-without-retries", "run-key"],
)
def test_fields_that_did_nothing_or_clashed_are_refused_at_push(
    step: dict[str, Any], where: str, said: str
) -> None:
    """``retry_delay_seconds`` without ``retries`` was accepted and did nothing (no
    retry), and a concurrency key ``run:<id>`` shared a run's own max_parallel_steps
    key (or set its limit): both are refused at push, naming the place."""
    problem = _problem({"name": "w", "steps": [step]})
    assert f"{where}: " in problem and said in problem, problem
