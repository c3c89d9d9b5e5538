"""A signal trigger's set, joined (its signals marked used) before its run's start
failed (throttling past the SDK's retries: an exception, as
tests/integration/test_faults.py models a crash with), still gets its run when the
signal came from a sender that waits for no answer: a step's ``emit`` is sent again
later (service/signals.py ``emit_signals``), a bus event is raised for Lambda to retry
(service/signal_triggers.py ``on_signal``)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.signals import SignalRequest
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.service import runs as runs_service
from podium.service.signals import send_signal
from podium.service.triggers import list_triggers
from tests.integration.test_faults import Crash
from tests.integration.test_signal_wait_events_survive_crashes import recover

JOINED = {
    "name": "joined",
    "params": {"day": {"type": "string"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "t",
            "signal": {"names": ["ready", "approved"], "join_keys": ["day"]},
            "params": {"day": "${event.signals.ready.params.day}"},
        }
    ],
}


@pytest.mark.parametrize("sender", ["emit", "bus"])
def test_a_set_consumed_before_a_failed_run_start_still_gets_its_run(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch, sender: str
) -> None:
    """docs/workflow-language.md (signal triggers): "A set is marked used before its run
    starts; if the run's start fails, sending any of its signals again ... starts it";
    service/signal_triggers.py ``on_signal`` says of a failing trigger that "the signal
    stays stored and, for this trigger, unused: a later signal of the trigger joins it".
    DESIGN.md: "Nothing is lost. Write state first, then send messages".

    When the signal comes from a step's ``emit`` or from Podium's bus, ``on_signal``
    swallows the exception of a start that failed after ``consume`` (throttling past
    the SDK's retries; the exception test_faults.py models a crash with): the emitting
    step's completion goes on, and the events function returns normally, so Lambda does
    not retry the event. Nothing sends the signal again (the emit's request id is
    Podium's own; the bus producer's PutEvents succeeded), and the signal is not
    "unused": it is consumed with its partner, so no later signal joins either. The
    set's run never starts, once the fault has passed, however long one waits."""
    rt = memory_rt
    rt.push(JOINED)
    rt.push(
        {
            "name": "emitter",
            "steps": [
                {
                    "id": "s",
                    "type": "noop",
                    "emit": [{"signal": "approved", "params": {"day": "d1"}}],
                }
            ],
        }
    )
    send_signal(rt.services, SignalRequest("ready", params={"day": "d1"}, request_id="r"))
    real, failed = runs_service.start_run, list[int]()

    def throttled_once(*args: Any, **kwargs: Any) -> Any:
        if args[1] == "joined" and not failed:
            failed.append(1)
            raise Crash("ProvisionedThroughputExceededException past the SDK's retries")
        return real(*args, **kwargs)

    monkeypatch.setattr(runs_service, "start_run", throttled_once)
    if sender == "emit":
        rt.start_run("emitter")
    else:
        event = {
            "id": "e-1",
            "source": "producer",
            "detail-type": "podium.signal",
            "time": "2026-01-01T00:00:00Z",
            "detail": {"name": "approved", "params": {"day": "d1"}},
        }
        for _ in range(3):  # Lambda's async invocation: the first try and 2 retries
            try:
                events.handler({"podium_bus": "podium", "event": event}, None)
                break
            except Crash:
                continue
    recover(rt)
    assert failed == [1]
    started = rt.store.list_runs("joined", limit=10)
    assert [r.params for r in started] == [{"day": "d1"}]


def test_the_trigger_says_a_set_joined_waits_for_its_run(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure recorded on the trigger (``podium triggers list``) said the signal
    was "not joined" and to send it again: the set was joined (its signals marked used,
    no later signal joins them) and waits for its run, which a signal of the set
    offered again starts."""
    rt = memory_rt
    rt.push(JOINED)
    send_signal(rt.services, SignalRequest("ready", params={"day": "d1"}, request_id="r"))

    def throttled(*args: Any, **kwargs: Any) -> Any:
        raise Crash("ProvisionedThroughputExceededException past the SDK's retries")

    monkeypatch.setattr(runs_service, "start_run", throttled)
    send_signal(rt.services, SignalRequest("approved", params={"day": "d1"}, source="emit"))
    [state] = list_triggers(rt.services, "joined")
    error = state["last_failure"]["error"]
    assert "joined the set" in error and "not joined" not in error, error
    assert "ProvisionedThroughputExceededException" in error, error
