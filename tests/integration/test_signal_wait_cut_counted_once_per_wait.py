"""``SignalWaitsCut`` was counted on every check of a cut wait, where docs/operations.md
(Limits) says "once per wait and name", as its timeline item and its log line are.

A wait's later checks (the sweeper's every minute, each wake-up) read again the signals
of the 20 minutes before its last miss (``LATE_SIGNAL_MS``): on a busy name every such
check stopped at the bound again, and ``_said_cut`` counted the metric before asking
whether its timeline item was new, so the metric read as many cut waits as checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.metrics import RecordingMetrics
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest, new_signal
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import signal_waits
from podium.service.signal_waits import recheck

MINUTE = 60_000
WAITS = {
    "name": "waits",
    "steps": [
        {
            "id": "w",
            "type": "noop",
            "timeout": "10d",
            "wait_for": [{"signal": "go", "match": {"k": "wanted"}}],
        }
    ],
}


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


def store(rt: LocalRuntime, k: str, **kw: Any) -> None:
    assert rt.services.signals is not None
    rt.clock.advance(1000)  # type: ignore[attr-defined]
    rt.services.signals.send(
        new_signal(SignalRequest("go", params={"k": k}, **kw), rt.services.now())
    )


def test_one_cut_wait_is_counted_once_however_often_it_is_checked(rt: LocalRuntime) -> None:
    metrics = RecordingMetrics()
    rt.services.metrics = metrics
    for i in range(60):  # a busy name: more than the bound, none matching
        store(rt, f"other-{i}")
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    record = rt.store.get_step(run.run_id, "w")
    assert record is not None and record.status is StepStatus.WAITING_FOR_SIGNALS
    for _ in range(3):  # the sweeper's next looks, a minute apart
        rt.clock.advance(MINUTE)  # type: ignore[attr-defined]
        record = rt.store.get_step(run.run_id, "w")
        assert record is not None
        recheck(rt.services, rt.store.get_run(run.run_id), record)
    cuts = [e for e in rt.store.list_events(run.run_id) if e.kind == "signal_wait_cut"]
    assert len(cuts) == 1  # the timeline says it once
    assert metrics.counts.get("SignalWaitsCut") == 1, (
        f"one wait cut, counted {metrics.counts.get('SignalWaitsCut')} times"
    )
