"""A signal stored before a wait's deadline still ended the step TIMED_OUT when its
wake-up was handled after the deadline, or was lost: service/signal_waits.py recheck
timed the wait out as soon as ``now >= deadline`` without looking, and so did the
deadline's own check and the sweeper's look at a paused run's wait (service/sweep.py).
Past the deadline a check now looks once for a match among the signals sent by then,
and times the wait out only when there is none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest, new_signal
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.signals import send_signal
from podium.service.sweep import sweep

HOUR = 3_600_000
DAY = 24 * HOUR
WAITS = {
    "name": "waits",
    "steps": [
        {"id": "w", "type": "noop", "timeout": "1h", "wait_for": [{"signal": "go"}]},
        {"id": "other", "type": "sleep", "seconds": 7200},  # keeps the run going
    ],
}
# The 10-day default: no deadline timer; the sweeper's look is the deadline.
DEFAULT = {
    "name": "default_deadline",
    "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}],
}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        runtime.push(WAITS)
        runtime.push(DEFAULT)
        yield runtime


def clock(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def status(rt: LocalRuntime, run_id: str) -> StepStatus:
    record = rt.store.get_step(run_id, "w")
    assert record is not None
    return record.status


def store_without_wake_up(rt: LocalRuntime, name: str) -> None:
    """A sender that stored the signal and died before waking the waiters."""
    signals = rt.services.signals
    assert signals is not None
    signals.send(new_signal(SignalRequest(name), rt.services.now()))


def test_a_wake_up_handled_after_the_deadline_released_the_step(rt: LocalRuntime) -> None:
    """`go` was sent (answered 201) a second before the deadline; its wake-up was
    delivered 2 s later (an event queue behind): the step ended TIMED_OUT."""
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.WAITING_FOR_SIGNALS
    clock(rt).advance(HOUR - 1000)
    send_signal(rt.services, SignalRequest("go"))  # stored; its wake-up queued
    clock(rt).advance(2000)
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.SUCCEEDED


def test_the_deadlines_own_check_found_a_signal_whose_wake_up_was_lost(
    rt: LocalRuntime,
) -> None:
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    clock(rt).advance(HOUR - 30_000)
    store_without_wake_up(rt, "go")
    clock(rt).advance(31_000)
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.SUCCEEDED


def test_the_sweepers_look_at_a_paused_run_found_it_and_the_step_ran_on_resume(
    rt: LocalRuntime,
) -> None:
    """A paused run's wait past its (10-day default) deadline: the sweeper timed it out
    without looking for the signal stored (wake-up lost) before the deadline. Released
    instead, the step waits for the resume as any claim in a paused run does."""
    run = rt.start_run("default_deadline")
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.WAITING_FOR_SIGNALS
    run_action(rt.services, run.run_id, RunAction.PAUSE, Actor("ops"))
    rt.pump(advance_time=False)
    clock(rt).advance(10 * DAY - 60_000)
    store_without_wake_up(rt, "go")
    clock(rt).advance(2 * 60_000)
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is not StepStatus.TIMED_OUT
    assert rt.store.get_run(run.run_id).status is RunStatus.PAUSED
    run_action(rt.services, run.run_id, RunAction.RESUME, Actor("ops"))
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.SUCCEEDED
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_a_signal_sent_after_the_deadline_did_not_count(rt: LocalRuntime) -> None:
    """Guard: the look past the deadline counts only signals sent by then."""
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    clock(rt).advance(HOUR + 1000)
    store_without_wake_up(rt, "go")  # after the deadline, before its check ran
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.TIMED_OUT


def test_a_signal_expired_before_the_deadline_did_not_count(rt: LocalRuntime) -> None:
    """Guard: one that was no longer live at the deadline does not release the step."""
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    signals = rt.services.signals
    assert signals is not None
    signals.send(new_signal(SignalRequest("go", ttl_ms=HOUR // 2), rt.services.now() - 1))
    # stored with no wake-up, gone at the half hour
    clock(rt).advance(HOUR + 1000)
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.TIMED_OUT
