"""Contract: ``Permits.abandon`` ends only a step that is queued or woken (WAITING_FOR_PERMITS,
READY, RETRY_WAIT), at the place it was read at; DynamoDB and SQLite condition the write
on both (dynamo_permits.py ``abandon``: ``_WAITING | CLAIMABLE`` and the queue item at
``waiting_since``). The memory store (the fake the simulations run on) ended whatever
step it found with a place, from its current record."""

from __future__ import annotations

from podium.core.engine.records import StepRecord
from podium.core.engine.status import StepStatus
from podium.core.ports import Claim, StateStore
from tests.contract.test_permits import claim, ready, store

__all__ = ["store"]  # the fixture

WAITING = frozenset({StepStatus.WAITING_FOR_PERMITS})


def _queued_behind_a_holder(store: StateStore) -> StepRecord:
    assert claim(store, ready(store, "r1")) is Claim.CLAIMED
    waiter = ready(store, "r2")
    assert claim(store, waiter) is Claim.FULL
    assert store.permits().wait(waiter, "db", 1, now=10)
    queued = store.get_step("r2", "s")
    assert queued is not None and queued.status is StepStatus.WAITING_FOR_PERMITS
    return queued


def test_abandon_leaves_a_step_held_paused_in_its_place_alone(store: StateStore) -> None:
    """A queued step held PAUSED (a hold decided from a read taken before it queued:
    docs/run-strategies.md) still holds its place. ``abandon`` (meant for a queued or
    woken step) answers False on DynamoDB and SQLite and leaves it PAUSED for ``drop``;
    the memory store ended it STOPPED. It refuses it now, as they do."""
    _queued_behind_a_holder(store)
    held = store.transition_step(
        "r2", "s", expected=WAITING, attempt=None, to=StepStatus.PAUSED, changes={}
    )
    assert held.waiting_key == "db"
    left = store.permits().abandon(held, StepStatus.STOPPED, {"ended_at": 11, "reason": "x"})
    after = store.get_step("r2", "s")
    assert after is not None
    assert (left, after.status) == (False, StepStatus.PAUSED)


def test_abandon_from_a_stale_read_leaves_the_step_at_its_new_place(store: StateStore) -> None:
    """The step was read queued at ``since`` 10; since then it left that place and queued
    again at 20 (woken, claimed, given back, queued anew). An ``abandon`` decided from the
    stale read answers False on DynamoDB and SQLite (no queue item at 10); the memory
    store took the step out of its new place and ended it. It answers False now."""
    stale = _queued_behind_a_holder(store)
    permits = store.permits()
    # It leaves its place (as an abandon, a drop or a claim would) and queues again at
    # 20: the record read at 10 is stale.
    woken = store.transition_step(
        "r2", "s", expected=WAITING, attempt=None, to=StepStatus.READY, changes={}
    )
    assert permits.abandon(woken, StepStatus.READY, {})  # out of the queue, READY again
    fresh = store.get_step("r2", "s")
    assert fresh is not None and fresh.waiting_key is None
    assert permits.wait(fresh, "db", 1, now=20)
    left = permits.abandon(stale, StepStatus.STOPPED, {"ended_at": 21, "reason": "stale"})
    after = store.get_step("r2", "s")
    assert after is not None
    assert (left, after.status, after.waiting_since) == (
        False,
        StepStatus.WAITING_FOR_PERMITS,
        20,
    )
