"""A signal lacking one of a signal trigger's ``join_keys`` was passed over in silence.

service/signal_triggers.py ``_join`` returned nothing for it: POST /signals answered
``created: true, failed: []`` and `podium triggers list` showed no failure, so the
sender waited for a run that could never start. It is now the trigger's last failure,
naming the key, and the answer lists it under ``failed``."""

from __future__ import annotations

from typing import Any

from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers
from tests.integration.test_api import call

WF: dict[str, Any] = {
    "name": "wf",
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "both",
            "signal": {"names": ["a_ready", "b_ready"], "join_keys": ["day", "region"]},
        }
    ],
}


def test_a_signal_lacking_a_join_key_is_answered_and_recorded(runtime: LocalRuntime) -> None:
    runtime.push(WF)
    runtime.clock.advance(1000)
    status, answer = call(
        "POST", "/signals", {"name": "b_ready", "params": {"region": "eu"}, "request_id": "b1"}
    )
    assert status == 201 and answer["created"], answer
    [failed] = answer["failed"]
    assert failed["workflow"] == "wf" and failed["trigger"] == "both"
    assert "signal b_ready" in failed["error"]
    assert "it lacks join key day;" in failed["error"], failed
    assert "a signal of each name must carry every join key" in failed["error"]
    assert "triggers.both.signal.join_keys" in failed["error"]
    [state] = list_triggers(runtime.services, "wf")
    assert state["last_failure"]["error"] == failed["error"]  # as the trigger records it

    status, answer = call("POST", "/signals", {"name": "a_ready", "request_id": "a1"})
    assert "lacks join keys day, region;" in answer["failed"][0]["error"], answer


def test_signals_carrying_the_join_keys_join_with_no_failure(runtime: LocalRuntime) -> None:
    runtime.push(WF)
    runtime.clock.advance(1000)
    keys = {"day": "2026-01-01", "region": "eu"}
    status, answer = call("POST", "/signals", {"name": "a_ready", "params": keys})
    assert status == 201 and answer["failed"] == [], answer
    status, answer = call("POST", "/signals", {"name": "b_ready", "params": {**keys, "n": 3}})
    assert status == 201 and answer["failed"] == [], answer
    runtime.pump(advance_time=False)
    assert len(runtime.services.store.list_runs("wf")) == 1
    [state] = list_triggers(runtime.services, "wf")
    assert state["last_failure"] is None


def test_a_signal_the_trigger_does_not_match_is_no_failure(runtime: LocalRuntime) -> None:
    """A signal its ``match`` refuses is not the trigger's at all: no failure, even
    without the join keys."""
    wf = {
        **WF,
        "triggers": [
            {
                "id": "both",
                "signal": {
                    "names": ["a_ready", "b_ready"],
                    "join_keys": ["day"],
                    "match": {"b_ready": {"kind": "daily"}},
                },
            }
        ],
    }
    runtime.push(wf)
    runtime.clock.advance(1000)
    status, answer = call("POST", "/signals", {"name": "b_ready", "params": {"kind": "hourly"}})
    assert status == 201 and answer["failed"] == [], answer
    [state] = list_triggers(runtime.services, "wf")
    assert state["last_failure"] is None
