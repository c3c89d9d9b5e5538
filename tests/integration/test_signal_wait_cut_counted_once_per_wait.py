"""``SignalWaitsCut`` was counted on every check of a cut wait, where docs/operations.md
(Limits) says "once per wait and name", as its timeline item and its log line are.

A wait's later checks (the sweeper's every minute, each wake-up) read again the signals
of the 20 minutes before its last miss (``LATE_SIGNAL_MS``): on a busy name every such
check stopped at the bound again, and ``_said_cut`` counted the metric before asking
whether its timeline item was new, so the metric read as many cut waits as checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.metrics import RecordingMetrics
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import signal_waits
from tests.integration.test_signal_wait_bound import (
    MINUTE,
    WAITS,
    check_again,
    cuts,
    status,
    store,
    waiting,
)


@pytest.fixture
def rt(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalRuntime]:
    # The bound at 40 heads (pages of 4, 8, 16, 12), not 10,000: the same code path.
    monkeypatch.setattr(signal_waits, "_FIRST_PAGE", 4)
    monkeypatch.setattr(signal_waits, "_PAGE", 16)
    monkeypatch.setattr(signal_waits, "_MAX_LOOKED", 40)
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(WAITS)
        yield runtime


def test_one_cut_wait_is_counted_once_however_often_it_is_checked(rt: LocalRuntime) -> None:
    metrics = RecordingMetrics()
    rt.services.metrics = metrics
    for i in range(60):  # a busy name: more than the bound, none matching
        store(rt, f"other-{i}")
    run_id = waiting(rt)
    assert status(rt, run_id) is StepStatus.WAITING_FOR_SIGNALS
    for _ in range(3):  # the sweeper's next looks, a minute apart
        rt.clock.advance(MINUTE)  # type: ignore[attr-defined]
        check_again(rt, run_id)
    assert len(cuts(rt, run_id)) == 1  # the timeline says it once
    assert metrics.counts.get("SignalWaitsCut") == 1, (
        f"one wait cut, counted {metrics.counts.get('SignalWaitsCut')} times"
    )
