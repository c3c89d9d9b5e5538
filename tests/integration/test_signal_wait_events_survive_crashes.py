"""A wait for signals whose handler crashes (an exception right after a write, as
tests/integration/test_faults.py models one) between a write of the wait and what
follows it still says so: its WAITING_FOR_SIGNALS and TIMED_OUT step events are
published (at least once: docs/events.md) and its timeout's timeline item is written,
whether a redelivered message (service/signal_waits.py ``on_signal_check``,
``hold_for_signals``) or the sweeper (service/sweep.py) redoes it."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal
from podium.service.sweep import sweep
from tests.integration.test_faults import Crash

HOUR = 3_600_000
DAY = 24 * HOUR
STEP_CHANGE = "Podium Step Status Change"


def step_changes(rt: LocalRuntime, step: str) -> list[str]:
    assert rt.services.events is not None
    published: list[dict[str, Any]] = rt.services.events.published  # type: ignore[attr-defined]
    return [
        e["detail"]["status"]
        for e in published
        if e["detail-type"] == STEP_CHANGE and e["detail"]["step"] == step
    ]


def advance(rt: LocalRuntime, ms: int) -> None:
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ms)


def recover(rt: LocalRuntime, passes: int = 3) -> None:
    """Redeliveries first, then the sweeper for what no message covers."""
    for _ in range(passes):
        rt.pump()
        advance(rt, HOUR)
        sweep(rt.services, rt.store)
    rt.pump()


def waits(**timeout: int) -> dict[str, Any]:
    """A wait for the signal ``go`` (``timeout=``: its own, else the default 10 days),
    then a step after it."""
    return {
        "name": "waits",
        "steps": [
            {"id": "wait", "type": "noop", **timeout, "wait_for": [{"signal": "go"}]},
            {"id": "after", "type": "noop", "depends_on": ["wait"]},
        ],
    }


def crash_after_timed_out(rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first write of a step TIMED_OUT raises right after it is made; the steps it
    crashed on are listed in the list returned."""
    real, crashed = rt.store.transition_step, list[str]()

    def crashing(*args: Any, **kwargs: Any) -> Any:
        written = real(*args, **kwargs)
        if kwargs.get("to") is StepStatus.TIMED_OUT and not crashed:
            crashed.append(args[1])
            raise Crash("died right after the wait's TIMED_OUT write")
        return written

    monkeypatch.setattr(rt.store, "transition_step", crashing)
    return crashed


def test_a_crash_right_after_a_wait_timed_out_still_publishes_its_timed_out_event(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/events.md: step status changes are delivered "at least once"; TIMED_OUT is
    in the default ``step_events: failures`` set that alert rules match. A wait for
    signals that times out (service/signal_waits.py ``time_out``) writes TIMED_OUT, then
    the timeline's ``failed`` item, then publishes the change. A crash right after the
    write: the redelivered deadline check finds the step no longer WAITING_FOR_SIGNALS
    and returns (``on_signal_check``), and the sweeper's ``replay_terminal`` redoes the
    run's follow-ups but publishes nothing. The TIMED_OUT event is never published (and
    the timeline never gets the ``failed`` item a wait's timeout writes without a crash)."""
    rt = memory_rt
    rt.push(waits(timeout=60))
    run_id = rt.start_run("waits").run_id
    rt.pump(advance_time=False)
    crashed = crash_after_timed_out(rt, monkeypatch)
    recover(rt)
    assert crashed == ["wait"]
    record = rt.store.get_step(run_id, "wait")
    assert record is not None and record.status is StepStatus.TIMED_OUT
    assert rt.describe(run_id).run.status.terminal  # the follow-ups were redone
    assert "TIMED_OUT" in step_changes(rt, "wait"), step_changes(rt, "wait")
    kinds = [(e.kind, e.step) for e in rt.store.list_events(run_id)]
    assert ("failed", "wait") in kinds, kinds


def test_a_crash_right_after_a_wait_began_still_publishes_waiting_for_signals(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/events.md: with ``step_events: all`` a step's WAITING_FOR_SIGNALS is
    published, "at least once". ``hold_for_signals`` (service/signal_waits.py) creates
    the step WAITING_FOR_SIGNALS, then publishes only when ``record.waiting_since ==
    now``, i.e. only in the call that began the wait. A crash right after the create:
    the redelivery, handled later, finds the wait begun at an earlier time and publishes
    nothing. The step waits, is released and succeeds, and its WAITING_FOR_SIGNALS was
    never published."""
    rt = memory_rt
    rt.push(
        {
            "name": "waits",
            "step_events": "all",
            "steps": [
                {"id": "first", "type": "noop"},
                {
                    "id": "wait",
                    "type": "noop",
                    "depends_on": ["first"],
                    "wait_for": [{"signal": "go"}],
                },
            ],
        }
    )
    real, crashed = rt.store.create_step, list[str]()

    def crash_after_the_wait_began(record: Any, *args: Any, **kwargs: Any) -> Any:
        created = real(record, *args, **kwargs)
        if record.status is StepStatus.WAITING_FOR_SIGNALS and not crashed:
            crashed.append(record.step)
            raise Crash("died right after creating the waiting step")
        return created

    monkeypatch.setattr(rt.store, "create_step", crash_after_the_wait_began)
    run_id = rt.start_run("waits").run_id
    rt.pump(advance_time=False)
    advance(rt, 600_000)  # the redelivery comes later
    rt.pump(advance_time=False)
    assert crashed == ["wait"]
    record = rt.store.get_step(run_id, "wait")
    assert record is not None and record.status is StepStatus.WAITING_FOR_SIGNALS
    send_signal(rt.services, SignalRequest("go"))
    rt.pump()
    assert rt.describe(run_id).run.status.value == "SUCCEEDED"
    assert "WAITING_FOR_SIGNALS" in step_changes(rt, "wait"), step_changes(rt, "wait")


def test_a_crash_of_the_sweeper_right_after_a_wait_timed_out_still_publishes_it(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same crash where no message redoes it: a wait with the default timeout (10
    days) has no deadline timer, the sweeper's look times it out (``recheck``) and its
    pass dies right after the write. The sweeper's next pass found the step TIMED_OUT
    with its successor missing and replayed its follow-ups (``replay_terminal``): the
    run ended, but its TIMED_OUT event was never published, nor its ``failed`` item
    written."""
    rt = memory_rt
    rt.push(waits())
    run_id = rt.start_run("waits").run_id
    rt.pump(advance_time=False)
    crashed = crash_after_timed_out(rt, monkeypatch)
    advance(rt, 11 * DAY)
    recover(rt)  # the sweeper logs a run's failure and goes on to the next run
    assert crashed == ["wait"]
    assert rt.describe(run_id).run.status.terminal
    assert step_changes(rt, "wait") == ["TIMED_OUT"]
    kinds = [(e.kind, e.step) for e in rt.store.list_events(run_id)]
    assert kinds.count(("failed", "wait")) == 1, kinds
