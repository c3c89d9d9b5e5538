"""A condition that gave something other than true or false named Python's type of it:
a while's ``condition`` said "got str" / "got NoneType", an edge's ``when`` and a signal
trigger's ``condition`` the same, where every other type error of the expression
language (and, since 766ce33, of params) says CEL's (string, null, map, double).

Found by review R30f."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from tests.integration.test_signal_trigger_condition_not_boolean_is_recorded import (
    push_go_trigger,
    trigger_failure_after,
)


def _while(name: str, value: Any) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {
                "id": "loop",
                "type": "while",
                "state": {"flag": value},
                "condition": "state.flag",
                "steps": [{"id": "nap", "type": "sleep", "seconds": 30}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("value", "said"),
    [("yes", "got string"), (None, "got null"), ({"a": 1}, "got map"), (1.5, "got double")],
)
def test_a_while_condition_that_is_not_a_boolean_names_its_cel_type(
    memory_rt: LocalRuntime, value: Any, said: str
) -> None:
    """It said "got str", "got NoneType", "got dict", "got float"."""
    view = memory_rt.run(_while("while_cond", value))
    assert view.run.status is RunStatus.FAILED
    error = view.run.error or ""
    assert error == f"loop: condition before iteration 0: condition must be true or false, {said}"


def test_an_edge_when_that_is_not_a_boolean_names_its_cel_type(memory_rt: LocalRuntime) -> None:
    """It said "got str"."""
    view = memory_rt.run(
        {
            "name": "edge_when",
            "params": {"go": {"type": "string", "default": "yes"}},
            "steps": [
                {"id": "a", "type": "noop"},
                {"id": "b", "type": "noop", "depends_on": [{"step": "a", "when": "params.go"}]},
            ],
        }
    )
    assert view.run.status is RunStatus.FAILED
    assert view.run.error == "b: when on 'a': must be true or false, got string", view.run.error


def test_a_signal_trigger_condition_that_is_not_a_boolean_names_its_cel_type(
    home_rt: LocalRuntime,
) -> None:
    """It said "got NoneType" for a payload's null."""
    push_go_trigger(home_rt)
    failure = trigger_failure_after(home_rt, {"ok": None})
    assert failure["error"] == "triggers.t.signal.condition: must be true or false, got null"
