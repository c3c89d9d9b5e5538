"""A signal trigger whose condition gave something other than true or false.

``condition: "event.signals.go.payload.ok"`` giving 1 started nothing and recorded
nothing: `podium triggers list` showed no failure, so the trigger silently never fired
(service/signal_triggers.py took any non-true value as "does not hold"), while an edge's
``when`` giving an int failed its run with "must be true or false, got int". The
trigger now records that failure as its last failure (docs: a condition must give true
or false; a condition that cannot be evaluated is the trigger's last failure), and the
sender's answer lists it under ``failed``.

Found by review R29a (its bug 5)."""

from __future__ import annotations

from typing import Any

from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers
from podium.testing import send_signal
from tests.integration.test_api import call


def push_go_trigger(rt: LocalRuntime) -> None:
    """Pushes ``wf``, whose signal trigger ``t`` on ``go`` holds when the payload's
    ``ok`` does, and moves the clock on a second."""
    rt.push(
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
    rt.clock.advance(1000)


def trigger_failure_after(rt: LocalRuntime, payload: dict[str, Any]) -> dict[str, Any]:
    """Sends ``go`` with ``payload``; gives the last failure trigger ``t`` recorded."""
    send_signal(rt, "go", {}, payload)
    [state] = list_triggers(rt.services, "wf")
    failure = state.get("last_failure")
    assert failure is not None, state
    return failure


def test_a_signal_trigger_condition_that_is_not_a_boolean_is_recorded(
    home_rt: LocalRuntime,
) -> None:
    push_go_trigger(home_rt)
    failure = trigger_failure_after(home_rt, {"ok": 1})
    assert failure["error"] == ("triggers.t.signal.condition: must be true or false, got int"), (
        failure
    )
    assert home_rt.services.store.list_runs("wf") == []  # no run: the set was passed over


def test_the_sender_is_answered_and_a_boolean_still_decides(runtime: LocalRuntime) -> None:
    """POST /signals listed nothing under ``failed`` for the condition giving 1; it now
    names the trigger's failure. A condition giving false is no failure (the set is
    passed over, as before), and one giving true starts the run."""
    push_go_trigger(runtime)
    status, answer = call(
        "POST", "/signals", {"name": "go", "payload": {"ok": 1}, "request_id": "r1"}
    )
    assert status == 201, answer
    [failed] = answer["failed"]
    assert failed["trigger"] == "t" and "must be true or false, got int" in failed["error"]

    runtime.clock.advance(1000)
    status, answer = call(
        "POST", "/signals", {"name": "go", "payload": {"ok": False}, "request_id": "r2"}
    )
    assert status == 201 and answer["failed"] == [], answer
    status, answer = call(
        "POST", "/signals", {"name": "go", "payload": {"ok": True}, "request_id": "r3"}
    )
    assert status == 201 and answer["failed"] == [], answer
    runtime.pump(advance_time=False)
    assert len(runtime.services.store.list_runs("wf")) == 1
