"""Step params (rendered at start, typed where declared, readable downstream) and
workflow params with `validate` and `mode: constant`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition as load_definition
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.unit.test_step_params"


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {"got": event["step_params"]}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_step_params_are_rendered_passed_and_readable_downstream(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "sp",
            "params": {"day": {"type": "string", "default": "2026-01-02"}},
            "steps": [
                {
                    "id": "extract",
                    "type": "lambda",
                    "function": f"{HERE}:echo",
                    "params": {
                        "path": "s3://raw/${params.day}.csv",
                        "rows": {"type": "int", "value": "${1 + 2}"},
                    },
                },
                {
                    "id": "load",
                    "type": "lambda",
                    "function": f"{HERE}:echo",
                    "depends_on": [{"step": "extract", "when": "steps.extract.params.rows == 3"}],
                    "params": {"from": "${steps.extract.params.path}"},
                },
            ],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED
    steps = {s.step: s for s in view.steps}
    assert steps["extract"].output == {"got": {"path": "s3://raw/2026-01-02.csv", "rows": 3}}
    assert steps["extract"].params == {"path": "s3://raw/2026-01-02.csv", "rows": 3}
    assert steps["load"].output == {"got": {"from": "s3://raw/2026-01-02.csv"}}


def test_a_step_param_of_the_wrong_type_fails_the_step_clearly(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "sp_type",
            "steps": [
                {"id": "a", "type": "noop", "params": {"n": {"type": "int", "value": "${'x'}"}}}
            ],
        }
    )
    step = view.steps[0]
    assert step.status is StepStatus.FAILED
    assert step.error is not None and "params" in step.error and "expected int" in step.error


def test_step_param_references_are_checked_at_push() -> None:
    with pytest.raises(DefinitionError, match="unknown param 'dya'"):
        load_definition(
            {
                "name": "bad",
                "steps": [{"id": "a", "type": "noop", "params": {"p": "${params.dya}"}}],
            }
        )


def test_validate_and_constant_params(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "checked",
            "params": {
                "limit": {
                    "type": "int",
                    "default": 10,
                    "validate": {"expr": "value > 0 && value <= 100", "message": "1..100 rows"},
                },
                "env": {"type": "string", "default": "prod", "mode": "constant"},
            },
            "steps": [{"id": "a", "type": "noop"}],
        }
    )
    with pytest.raises(DefinitionError, match=r"1\.\.100 rows"):
        rt.start_run("checked", {"limit": 0})
    with pytest.raises(DefinitionError, match="constant"):
        rt.start_run("checked", {"env": "dev"})
    assert rt.start_run("checked", {"limit": 5}).params == {"limit": 5, "env": "prod"}


def test_validate_may_read_only_value_and_params() -> None:
    with pytest.raises(DefinitionError, match="may read value and params only"):
        load_definition(
            {
                "name": "bad",
                "params": {"n": {"type": "int", "default": 1, "validate": "steps.a.output > 1"}},
                "steps": [{"id": "a", "type": "noop"}],
            }
        )
