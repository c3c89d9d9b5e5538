"""A waiting step's checks look again only at signals they have not seen: after a check
that found no match, the next one reads signals sent from LATE_SIGNAL_MS before that
miss on (service/signal_waits.py), and still finds one sent before the miss but stored
after it. Misses are kept at most every few minutes, not on every check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.signals import SignalRequest, new_signal
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.signal_waits import LATE_SIGNAL_MS, recheck

MINUTE = 60_000
HOUR = 60 * MINUTE


class Seen:
    """The ``since`` of each check of ``go`` (its first page of heads), and the misses
    kept."""

    def __init__(self, rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        signals = rt.services.signals
        assert signals is not None
        self.since: list[int | None] = []
        self.notes: list[int] = []
        self.reads = 0
        find, note, last = signals.find_heads, signals.note_miss, signals.last_miss

        def spy_find(name: str, conditions: Any, **kw: Any) -> Any:
            if name == "go" and kw.get("before") is None:
                self.since.append(kw.get("since"))
            return find(name, conditions, **kw)

        def spy_note(name: str, waiter: Any, at: int) -> None:
            self.notes.append(at)
            note(name, waiter, at)

        def spy_last(name: str, waiter: Any) -> int | None:
            self.reads += 1
            return last(name, waiter)

        monkeypatch.setattr(signals, "find_heads", spy_find)
        monkeypatch.setattr(signals, "note_miss", spy_note)
        monkeypatch.setattr(signals, "last_miss", spy_last)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def waiting(rt: LocalRuntime, since: str = "any") -> str:
    rt.push(
        {
            "name": "waits",
            "steps": [
                {
                    "id": "w",
                    "type": "noop",
                    "timeout": "10d",
                    "wait_for": [{"signal": "go", "match": {"k": "wanted"}, "since": since}],
                }
            ],
        }
    )
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    assert status(rt, run.run_id) is StepStatus.WAITING_FOR_SIGNALS
    return run.run_id


def status(rt: LocalRuntime, run_id: str) -> StepStatus:
    record = rt.store.get_step(run_id, "w")
    assert record is not None
    return record.status


def check_again(rt: LocalRuntime, run_id: str) -> None:
    record = rt.store.get_step(run_id, "w")
    assert record is not None
    recheck(rt.services, rt.store.get_run(run_id), record)


def store(rt: LocalRuntime, k: str, sent_at: int) -> None:
    """A signal stored without a wake-up (its sender died after the write)."""
    assert rt.services.signals is not None
    rt.services.signals.send(new_signal(SignalRequest("go", params={"k": k}), sent_at))


def test_a_recheck_reads_only_signals_sent_since_its_last_miss(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        store(rt, f"other-{i}", rt.clock.now_ms())
    seen = Seen(rt, monkeypatch)
    run_id = waiting(rt)
    began = rt.clock.now_ms()
    assert seen.since == [None] and seen.notes == [began]
    assert seen.reads == 0  # the waiter was just registered: no miss to read
    rt.clock.advance(HOUR)
    check_again(rt, run_id)
    assert seen.since[-1] == began - LATE_SIGNAL_MS
    assert seen.notes[-1] == began + HOUR
    rt.clock.advance(MINUTE)
    check_again(rt, run_id)
    assert seen.since[-1] == began + HOUR - LATE_SIGNAL_MS
    assert seen.notes == [began, began + HOUR]  # a minute on: not kept again
    rt.clock.advance(15 * MINUTE)
    check_again(rt, run_id)
    assert seen.notes == [began, began + HOUR, began + HOUR + 16 * MINUTE]
    assert status(rt, run_id) is StepStatus.WAITING_FOR_SIGNALS


def test_a_signal_stored_after_a_miss_but_sent_before_it_is_found(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen(rt, monkeypatch)
    run_id = waiting(rt)
    rt.clock.advance(HOUR)
    check_again(rt, run_id)
    missed = rt.clock.now_ms()
    assert seen.notes[-1] == missed
    # Sent (stamped) before the miss, stored after it: a slow sender.
    store(rt, "wanted", missed - LATE_SIGNAL_MS + MINUTE)
    rt.clock.advance(MINUTE)
    check_again(rt, run_id)
    assert status(rt, run_id) is not StepStatus.WAITING_FOR_SIGNALS


def test_a_wait_begun_lately_since_step_start_reads_no_miss(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = Seen(rt, monkeypatch)
    run_id = waiting(rt, since="step_start")
    began = rt.clock.now_ms()
    rt.clock.advance(MINUTE)
    check_again(rt, run_id)
    # Its own ``since`` is later than any miss could narrow it to: nothing read or kept.
    assert seen.since == [began, began] and seen.reads == 0 and seen.notes == []
    rt.clock.advance(HOUR)
    check_again(rt, run_id)
    assert seen.reads == 1 and seen.notes == [began + HOUR + MINUTE]
    rt.clock.advance(HOUR)
    check_again(rt, run_id)
    assert seen.since[-1] == began + HOUR + MINUTE - LATE_SIGNAL_MS
