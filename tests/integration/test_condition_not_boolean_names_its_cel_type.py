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
from podium.service.triggers import list_triggers
from podium.testing import send_signal


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
    home_rt.push(
        {
            "name": "wf",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [
                {
                    "id": "t",
                    "signal": {"names": ["go"], "condition": "event.signals.go.payload.ok"},
                }
            ],
        }
    )
    home_rt.clock.advance(1000)
    send_signal(home_rt, "go", {}, {"ok": None})
    [state] = list_triggers(home_rt.services, "wf")
    failure = state.get("last_failure")
    assert failure is not None, state
    assert failure["error"] == "triggers.t.signal.condition: must be true or false, got null"
