"""A waiting step's check looks through a bounded number of signals.

A check found a match with ``Signals.find``, which with conditions read every head of
the name until one matched: a name with a long backlog of signals that do not match
(a wait for one day's signal among a year of others) read them all on the first check
(90 days of a busy name: millions of heads). Now a check reads pages of heads, newest
first, and stops at ``_MAX_LOOKED`` (10,000, as a signal trigger's join does); stopping
there is said on the run's timeline (``signal_wait_cut``, once per wait and name) and
counts as a miss: newer signals are always looked at (service/signal_waits.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest, new_signal
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import signal_waits
from podium.service.signal_waits import recheck

MINUTE = 60_000
HOUR = 60 * MINUTE
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


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalRuntime]:
    # Pages of 4, 8, 16, 16 heads, at most 40: the bound without storing 10,000 signals.
    monkeypatch.setattr(signal_waits, "_FIRST_PAGE", 4, raising=False)
    monkeypatch.setattr(signal_waits, "_PAGE", 16, raising=False)
    monkeypatch.setattr(signal_waits, "_MAX_LOOKED", 40, raising=False)
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        runtime.push(WAITS)
        yield runtime


class Looked:
    """The heads of ``go`` each page asked for."""

    def __init__(self, rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
        signals = rt.services.signals
        assert signals is not None
        self.sizes: list[int] = []
        heads = signals.find_heads

        def spy(name: str, conditions: Any, **kw: Any) -> Any:
            if name == "go":
                self.sizes.append(kw["size"])
            return heads(name, conditions, **kw)

        monkeypatch.setattr(signals, "find_heads", spy)


def store(rt: LocalRuntime, k: str, **kw: Any) -> None:
    """A signal stored without a wake-up."""
    assert rt.services.signals is not None
    rt.clock.advance(1000)  # type: ignore[attr-defined]
    rt.services.signals.send(
        new_signal(SignalRequest("go", params={"k": k}, **kw), rt.services.now())
    )


def waiting(rt: LocalRuntime) -> str:
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    return run.run_id


def status(rt: LocalRuntime, run_id: str) -> StepStatus:
    record = rt.store.get_step(run_id, "w")
    assert record is not None
    return record.status


def cuts(rt: LocalRuntime, run_id: str) -> list[Any]:
    return [e for e in rt.store.list_events(run_id) if e.kind == "signal_wait_cut"]


def check_again(rt: LocalRuntime, run_id: str) -> None:
    record = rt.store.get_step(run_id, "w")
    assert record is not None
    recheck(rt.services, rt.store.get_run(run_id), record)


def test_a_match_within_the_bound_is_found(rt: LocalRuntime) -> None:
    store(rt, "wanted", payload={"p": 1})
    for i in range(30):
        store(rt, f"other-{i}", payload={"p": i})
    run_id = waiting(rt)
    assert status(rt, run_id) is not StepStatus.WAITING_FOR_SIGNALS
    assert cuts(rt, run_id) == []


def test_a_check_stops_at_its_bound_and_says_so_on_the_timeline(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    store(rt, "wanted")  # the 61st newest: past the bound
    for i in range(60):
        store(rt, f"other-{i}")
    looked = Looked(rt, monkeypatch)
    run_id = waiting(rt)
    assert status(rt, run_id) is StepStatus.WAITING_FOR_SIGNALS
    assert looked.sizes == [4, 8, 16, 12] and sum(looked.sizes) == 40
    (cut,) = cuts(rt, run_id)
    assert cut.step == "w" and cut.detail["signal"] == "go" and cut.detail["looked"] == 40
    assert "no signal go matching the wait among the newest 40" in cut.detail["error"]
    assert "since: step_start" in cut.detail["error"]
    # A later check reads only what is new since that miss, and says nothing again.
    looked.sizes.clear()
    rt.clock.advance(HOUR)  # type: ignore[attr-defined]
    check_again(rt, run_id)
    assert sum(looked.sizes) <= 40 and len(cuts(rt, run_id)) == 1
    # A matching signal sent anew (a new request id: the same params alone are the same
    # signal, stored once) is the newest, and found.
    store(rt, "wanted", request_id="again")
    check_again(rt, run_id)
    assert status(rt, run_id) is not StepStatus.WAITING_FOR_SIGNALS
    assert len(cuts(rt, run_id)) == 1


def test_a_wait_without_conditions_reads_the_newest_head(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.push({**WAITS, "steps": [{**WAITS["steps"][0], "wait_for": [{"signal": "go"}]}]})  # type: ignore[dict-item]
    for i in range(20):
        store(rt, f"other-{i}", payload={"i": i})
    looked = Looked(rt, monkeypatch)
    run_id = waiting(rt)
    assert status(rt, run_id) is not StepStatus.WAITING_FOR_SIGNALS
    assert looked.sizes == [1]
