"""The signal and trigger shapes under their fault schedules: a duplicated trigger event
starts one run; a wake-up lost to a crash between storing a signal and waking its
waiters is caught by the sweeper (the test checks that this happened in some seeds, so
the shape keeps exercising it)."""

from __future__ import annotations

import pytest

from podium.service import signal_waits, sweep
from podium.sim.simulate import simulate


def test_a_duplicated_trigger_event_starts_one_run() -> None:
    report = simulate(range(0, 150), "memory", ("duplicate_trigger",))
    assert not report.failing_seeds, report.as_json()


def test_a_lost_wake_up_is_caught_by_the_sweeper(monkeypatch: pytest.MonkeyPatch) -> None:
    released_by_sweep = 0
    check = signal_waits.check

    def recheck(ctx, run, record):  # type: ignore[no-untyped-def]
        nonlocal released_by_sweep
        if ctx.now() >= signal_waits.deadline_of(ctx, run, record):
            signal_waits.time_out(ctx, run, record)
        elif check(ctx, run, record):
            released_by_sweep += 1

    monkeypatch.setattr(sweep, "recheck_signals", recheck)
    report = simulate(range(0, 150), "memory", ("signal_wait",))
    assert not report.failing_seeds, report.as_json()
    assert released_by_sweep > 0


def test_the_signal_shapes_on_dynamodb() -> None:
    report = simulate(range(0, 12), "moto", ("signal_wait", "duplicate_trigger"))
    assert not report.failing_seeds, report.as_json()
