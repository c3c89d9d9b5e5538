"""RunSlots.queued's ``after`` cursor, across the three adapters. On SQLite a run's
enqueue number was the maximum over the live queue plus one, so it started again at 1 once
the queue emptied: a run queued later in the same millisecond sorted before the cursor's
entry, which had left the queue, and a page read after it skipped that run. The number
now never goes back (a counter in ``meta``)."""

from __future__ import annotations

from podium.core.engine.status import RunStatus
from podium.core.ports import StateStore
from tests.contract.test_run_slots import queued, store

__all__ = ["store"]


def test_a_run_queued_after_the_cursor_left_the_queue_is_not_skipped(store: StateStore) -> None:
    """SQLite home: a page read ``after`` an entry that since left the queue skipped a run
    queued later in the same millisecond, because ``seq`` is MAX(seq)+1 of the rows left
    and restarts at 1 once the queue empties (memory and DynamoDB list it). A run queued
    after the cursor's entry must come after it."""
    slots = store.run_slots()
    for run_id in ("a", "b"):
        slots.enqueue(queued(run_id, 10))
    page = slots.queued("wf", 2)
    assert [e.run_id for e in page] == ["a", "b"]
    for entry in page:  # both leave the queue (a cancel's stop, an admission)
        assert slots.drop_queued(entry, RunStatus.STOPPED, "cancelled", 11)
    slots.enqueue(queued("c", 10))  # queued after them, in their millisecond

    after = [e.run_id for e in slots.queued("wf", 10, after=page[-1])]

    assert after == ["c"], f"the page after b lists {after}: c, queued after b, is skipped"
