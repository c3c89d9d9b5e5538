"""A step waiting for a permit is told its place in the key's queue (``runs show``, the
API, the console: ``position P of N``). ``service/runs.py`` read only the key's first
1,000 waiters: a step further back got no place at all ("queued"), and one in the first
1,000 was told "of 1000" however many waited. The whole queue is now read, a page at a
time, until the run's waiting steps are found (at most ``PLACE_READ`` places: past them
"behind 5,000+"), and the count of waiters is the key's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters import dynamo_permits
from podium.adapters.clock import ManualClock
from podium.core.engine.permits import PermitNeed
from podium.core.engine.records import StepRecord
from podium.core.engine.status import StepStatus
from podium.core.ports import Claim, StateStore
from podium.local.runtime import LocalRuntime
from podium.service import runs
from podium.service.runs import describe_run

KEYED: dict[str, Any] = {
    "name": "keyed",
    "steps": [
        {"id": "load", "type": "noop", "concurrency": {"key": "k", "limit": 1}},
    ],
}


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    # DynamoDB's reads (in pages, past 1 MB) are the last test's: thousands of waiters
    # on moto take minutes (each transaction copies the table).
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(
        store=request.param, clock=ManualClock(), capture_output=False, **home
    ) as runtime:
        yield runtime


def _fill(store: StateStore, waiters: int) -> None:
    """A holder of ``k`` and ``waiters`` steps of other runs queued on it before."""
    permits = store.permits()
    store.create_step(StepRecord("holder", "s", StepStatus.READY, ready_at=1))
    held = store.get_step("holder", "s")
    assert held is not None
    changes = {"attempt": 1, "started_at": 1, "lease_until": 2**40}
    assert permits.claim(held, [PermitNeed("k", 1)], attempt=1, changes=changes).outcome is (
        Claim.CLAIMED
    )
    for i in range(waiters):
        run = f"waiter{i:05d}"
        store.create_step(StepRecord(run, "s", StepStatus.READY, ready_at=1))
        record = store.get_step(run, "s")
        assert record is not None
        assert permits.wait(record, "k", 1, now=10 + i)


def _reason(rt: LocalRuntime, waiters: int) -> str:
    _fill(rt.store, waiters)
    run = rt.start_run("keyed").run_id
    rt.pump()
    (load,) = describe_run(rt.services, run).steps
    assert load.status is StepStatus.WAITING_FOR_PERMITS
    return load.reason or ""


def test_a_step_behind_the_first_1000_waiters_is_told_its_place(rt: LocalRuntime) -> None:
    """1,002 steps waited before it: it was told only "queued" (it was not among the
    1,000 read). Now: position 1,003 of 1,003."""
    rt.push(KEYED)
    reason = _reason(rt, 1_002)
    assert "; position 1,003 of 1,003; held by holder/s" in reason, reason


def test_a_step_past_the_places_read_is_told_how_many_are_ahead_at_least(
    rt: LocalRuntime,
) -> None:
    """Past ``PLACE_READ`` (5,000) places the read stops: the step is "behind 5,000+" of
    the key's waiters (counted with its permits), never "queued" as if it had left."""
    rt.push(KEYED)
    reason = _reason(rt, 5_002)
    assert "; behind 5,000+ of 5,003 waiting; held by holder/s" in reason, reason


def test_on_dynamodb_the_queue_is_read_in_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on DynamoDB, with pages made small: each read goes on from the last
    place of the page before (and a Query's own pages, cut at 1 MB, from its last key)."""
    monkeypatch.setattr(runs, "QUEUE_PAGE", 2)
    monkeypatch.setattr(runs, "PLACE_READ", 6)
    monkeypatch.setattr(dynamo_permits, "_PAGE", 1)
    with LocalRuntime(store="moto", clock=ManualClock(), capture_output=False) as rt:
        rt.push(KEYED)
        assert "; position 5 of 5; held by holder/s" in _reason(rt, 4)


def test_on_dynamodb_a_step_past_the_places_read_is_behind_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runs, "QUEUE_PAGE", 2)
    monkeypatch.setattr(runs, "PLACE_READ", 4)
    with LocalRuntime(store="moto", clock=ManualClock(), capture_output=False) as rt:
        rt.push(KEYED)
        assert "; behind 4+ of 6 waiting; held by holder/s" in _reason(rt, 5)
