"""Contract suite for Permits: the memory fake and DynamoDB on moto behave alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.permits import PermitNeed, QueuePlace
from podium.core.engine.records import StepRecord
from podium.core.engine.status import StepStatus
from podium.core.ports import Claim, StateStore

KEY = PermitNeed("db", 1)


@pytest.fixture(params=["memory", "dynamodb", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    if request.param == "sqlite":
        sqlite = SqliteStateStore(tmp_path / "podium.db")
        yield sqlite
        sqlite.close()
        return
    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "permits")
        yield DynamoStateStore(client, "permits")


def ready(store: StateStore, run: str) -> StepRecord:
    store.create_step(StepRecord(run, "s", StepStatus.READY, ready_at=1))
    record = store.get_step(run, "s")
    assert record is not None
    return record


def claim(store: StateStore, record: StepRecord) -> Claim:
    changes = {"attempt": record.attempt + 1, "started_at": 5, "lease_until": 99}
    return store.permits().claim(record, [KEY], attempt=record.attempt + 1, changes=changes).outcome


def test_a_permit_is_claimed_with_the_step_and_released_once(store: StateStore) -> None:
    first, second = ready(store, "r1"), ready(store, "r2")
    assert claim(store, first) is Claim.CLAIMED
    assert store.get_step("r1", "s").status is StepStatus.RUNNING  # type: ignore[union-attr]
    assert claim(store, first) is Claim.CONFLICT  # a duplicate claim of the same attempt
    assert claim(store, second) is Claim.FULL
    assert store.permits().state("db").holders == {"r1/s": 99}
    assert store.permits().release("db", "r1/s")
    assert not store.permits().release("db", "r1/s")
    assert store.permits().state("db").active == 0


def test_waiters_keep_their_place_and_newcomers_queue_behind(store: StateStore) -> None:
    permits = store.permits()
    holder, waiter, newcomer = ready(store, "r1"), ready(store, "r2"), ready(store, "r3")
    assert claim(store, holder) is Claim.CLAIMED
    assert claim(store, waiter) is Claim.FULL
    assert permits.wait(waiter, "db", 1, now=10)
    waiting = store.get_step("r2", "s")
    assert waiting is not None and waiting.status is StepStatus.WAITING_FOR_PERMITS
    assert (waiting.waiting_key, waiting.waiting_since) == ("db", 10)
    assert permits.head("db") == ("r2", "s")
    assert permits.release("db", "r1/s")
    # The permit is free, but someone waits: a newcomer may not jump the queue.
    assert claim(store, newcomer) is Claim.FULL
    woken = store.transition_step(
        "r2", "s", expected=frozenset({StepStatus.WAITING_FOR_PERMITS}), attempt=None,
        to=StepStatus.READY, changes={},
    )  # fmt: skip
    assert claim(store, woken) is Claim.CLAIMED
    state = permits.state("db")
    assert (state.active, state.waiting, set(state.holders)) == (1, 0, {"r2/s"})
    assert permits.head("db") is None


def test_a_queued_step_of_an_ended_run_leaves_the_queue(store: StateStore) -> None:
    permits = store.permits()
    holder, waiter = ready(store, "r1"), ready(store, "r2")
    claim(store, holder)
    assert claim(store, waiter) is Claim.FULL
    permits.wait(waiter, "db", 1, now=10)
    queued = store.get_step("r2", "s")
    assert queued is not None
    assert permits.abandon(queued, StepStatus.STOPPED, {"ended_at": 11, "reason": "run STOPPED"})
    assert not permits.abandon(queued, StepStatus.STOPPED, {"ended_at": 11, "reason": "again"})
    assert permits.head("db") is None and permits.state("db").waiting == 0
    stopped = store.get_step("r2", "s")
    assert stopped is not None and stopped.status is StepStatus.STOPPED


def test_a_woken_waiter_claims_a_free_permit_with_others_queued_behind(
    store: StateStore,
) -> None:
    """Regression (engine-core issue, bug 6): the memory fake answered FULL forever to a
    woken waiter while others waited behind it, where DynamoDB lets it claim."""
    permits = store.permits()
    holder, first, second = ready(store, "r1"), ready(store, "r2"), ready(store, "r3")
    assert claim(store, holder) is Claim.CLAIMED
    assert permits.wait(first, "db", 1, now=10)
    assert permits.wait(second, "db", 1, now=11)
    assert permits.release("db", "r1/s")
    waiting = frozenset({StepStatus.WAITING_FOR_PERMITS})
    woken = store.transition_step(
        "r2", "s", expected=waiting, attempt=None, to=StepStatus.READY, changes={}
    )
    assert claim(store, woken) is Claim.CLAIMED
    assert permits.head("db") == ("r3", "s")
    assert permits.state("db").holders == {"r2/s": 99}


def test_timeline_events_are_keyed_by_time_and_id(store: StateStore) -> None:
    """Regression (bug 6): the memory fake de-duplicated events by id alone."""
    from podium.core.engine.records import TimelineEvent

    store.put_event(TimelineEvent("r1", 10, "e", "retry"))
    store.put_event(TimelineEvent("r1", 10, "e", "retry", detail={"n": 2}))  # overwrite
    store.put_event(TimelineEvent("r1", 20, "e", "retry"))  # another time: another event
    events = store.list_events("r1")
    assert [(e.at, e.detail) for e in events] == [(10, {"n": 2}), (20, {})]


def test_a_wait_decided_from_a_stale_read_adds_no_second_place(store: StateStore) -> None:
    """Regression (simulation, key_limit/20 on DynamoDB): a duplicate delivery read the
    step READY and not queued; meanwhile another delivery queued it and it was woken.
    The stale wait added a second queue item and orphaned the first at the head."""
    permits = store.permits()
    holder, step = ready(store, "r1"), ready(store, "r2")
    assert claim(store, holder) is Claim.CLAIMED
    stale = step  # read before it queued
    assert permits.wait(step, "db", 1, now=10)
    waiting = frozenset({StepStatus.WAITING_FOR_PERMITS})
    store.transition_step(
        "r2", "s", expected=waiting, attempt=None, to=StepStatus.READY, changes={}
    )
    assert not permits.wait(stale, "db", 1, now=20)
    assert permits.queue("db", 10) == [("r2", "s")]
    current = store.get_step("r2", "s")
    assert current is not None and current.waiting_since == 10


def test_a_step_that_ended_holding_its_place_is_dropped_from_the_queue(
    store: StateStore,
) -> None:
    """Regression (simulation, job_give_back 162 with operators): a stop read the step
    READY and not queued; it queued and was woken meanwhile, and the stop's write ended
    it still holding its place at the head of the queue."""
    permits = store.permits()
    first, second = ready(store, "r1"), ready(store, "r2")
    assert permits.wait(first, "db", 1, now=10)
    assert permits.wait(second, "db", 1, now=11)
    queued = store.get_step("r1", "s")
    assert queued is not None
    assert not permits.drop(queued)  # not ended: abandon is its way out
    waiting = frozenset({StepStatus.WAITING_FOR_PERMITS})
    store.transition_step("r1", "s", expected=waiting, attempt=None, to=StepStatus.READY,
                          changes={})  # fmt: skip
    ended = store.transition_step(
        "r1", "s", expected=frozenset({StepStatus.READY}), attempt=0, to=StepStatus.STOPPED,
        changes={"ended_at": 12, "reason": "stopped"},
    )  # fmt: skip
    assert (ended.waiting_key, ended.waiting_since) == ("db", 10)
    assert permits.head("db") == ("r1", "s")
    assert permits.drop(ended)
    assert not permits.drop(ended)  # once
    assert permits.queue("db", 10) == [("r2", "s")]
    assert permits.state("db").waiting == 1
    dropped = store.get_step("r1", "s")
    assert dropped is not None and dropped.status is StepStatus.STOPPED
    assert (dropped.waiting_key, dropped.waiting_since, dropped.ended_at) == (None, None, 12)
    # The one behind it, woken, claims as a waiter.
    woken = store.transition_step("r2", "s", expected=waiting, attempt=None,
                                  to=StepStatus.READY, changes={})  # fmt: skip
    assert claim(store, woken) is Claim.CLAIMED
    assert permits.head("db") is None and permits.state("db").waiting == 0


def woken_at_head(store: StateStore) -> StepRecord:
    """r1 and r2 queue on the key (r1 first, since 10), r1 is woken: READY at its place."""
    permits = store.permits()
    first, second = ready(store, "r1"), ready(store, "r2")
    assert permits.wait(first, "db", 1, now=10)
    assert permits.wait(second, "db", 1, now=11)
    waiting = frozenset({StepStatus.WAITING_FOR_PERMITS})
    return store.transition_step("r1", "s", expected=waiting, attempt=None,
                                 to=StepStatus.READY, changes={})  # fmt: skip


def test_a_step_held_holding_its_place_is_dropped_from_the_queue(store: StateStore) -> None:
    """A hold (a paused run) read the step READY and not queued; it queued and was woken
    meanwhile, and the hold's write left it PAUSED at the head of the queue."""
    permits = store.permits()
    woken = woken_at_head(store)
    held = store.transition_step(
        "r1", "s", expected=frozenset({StepStatus.READY}), attempt=0, to=StepStatus.PAUSED,
        changes={"reason": "held: the run is paused"},
    )  # fmt: skip
    assert not permits.drop(woken)  # as read READY: not held
    assert (held.waiting_key, held.waiting_since) == ("db", 10)
    assert permits.drop(held)
    assert not permits.drop(held)  # once
    assert permits.queue("db", 10) == [("r2", "s")]
    assert permits.state("db").waiting == 1
    dropped = store.get_step("r1", "s")
    assert dropped is not None and dropped.status is StepStatus.PAUSED
    assert (dropped.waiting_key, dropped.waiting_since) == (None, None)
    assert dropped.reason == "held: the run is paused"


def test_a_held_step_resumed_before_its_drop_keeps_its_place(store: StateStore) -> None:
    """Resumed (READY at its place) before the drop: it claims as the waiter it is, and
    the late drop, conditional on the step still PAUSED, does nothing."""
    permits = store.permits()
    woken_at_head(store)
    held = store.transition_step(
        "r1", "s", expected=frozenset({StepStatus.READY}), attempt=0, to=StepStatus.PAUSED,
        changes={"reason": "held: the run is paused"},
    )  # fmt: skip
    resumed = store.transition_step("r1", "s", expected=frozenset({StepStatus.PAUSED}),
                                    attempt=0, to=StepStatus.READY, changes={})  # fmt: skip
    assert not permits.drop(held)
    assert permits.queue("db", 10) == [("r1", "s"), ("r2", "s")]
    assert claim(store, resumed) is Claim.CLAIMED
    assert permits.queue("db", 10) == [("r2", "s")] and permits.state("db").waiting == 1


def test_the_head_place_says_when_it_was_taken(store: StateStore) -> None:
    permits = store.permits()
    assert permits.head_place("db") is None
    woken_at_head(store)
    assert permits.head_place("db") == QueuePlace("db", 10, "r1", "s")
    assert permits.head("db") == ("r1", "s")


def test_a_place_no_step_holds_is_dropped_from_the_queue(store: StateStore) -> None:
    """A step ended holding its place (a crash before its drop), then its record went
    (its run pruned or expired, or the step reopened by a retry in place): nothing will
    claim for the place, and ``wake_head`` drops it as an orphan."""
    permits = store.permits()
    woken_at_head(store)
    place = permits.head_place("db")
    assert place is not None
    assert not permits.drop_orphan(place)  # its step holds it
    store.transition_step(
        "r1", "s", expected=frozenset({StepStatus.READY}), attempt=0, to=StepStatus.STOPPED,
        changes={"ended_at": 12, "reason": "stopped"},
    )  # fmt: skip
    assert not permits.drop_orphan(place)  # ended, its step still holds it: ``drop``
    assert store.reopen_step("r1", "s", expected=frozenset({StepStatus.STOPPED}))
    assert store.get_step("r1", "s") is None
    assert permits.drop_orphan(place)
    assert not permits.drop_orphan(place)  # once
    assert permits.queue("db", 10) == [("r2", "s")]
    assert permits.state("db").waiting == 1
    assert permits.head_place("db") == QueuePlace("db", 11, "r2", "s")


def test_a_place_whose_step_was_made_again_without_it_is_dropped(store: StateStore) -> None:
    """The step reopened and made again, READY and not queued: the old place is not its."""
    permits = store.permits()
    woken_at_head(store)
    place = permits.head_place("db")
    assert place is not None
    store.transition_step(
        "r1", "s", expected=frozenset({StepStatus.READY}), attempt=0, to=StepStatus.STOPPED,
        changes={"ended_at": 12, "reason": "stopped"},
    )  # fmt: skip
    assert store.reopen_step("r1", "s", expected=frozenset({StepStatus.STOPPED}))
    again = ready(store, "r1")
    assert permits.drop_orphan(place)
    assert permits.queue("db", 10) == [("r2", "s")]
    # Made again, it queues anew behind the others (one place).
    assert claim(store, again) is Claim.FULL
    assert permits.wait(again, "db", 1, now=20)
    assert permits.queue("db", 10) == [("r2", "s"), ("r1", "s")]
    assert permits.state("db").waiting == 2


def test_a_key_nobody_holds_or_waits_on_is_forgotten(store: StateStore) -> None:
    """A run's own max_parallel_steps key is deleted once the run ended and gave its
    permits back (service/lifecycle.py ``release_run_permits``): only when nobody holds a
    permit of it and nobody waits, and a later claim starts it afresh."""
    permits = store.permits()
    holder, waiter = ready(store, "r1"), ready(store, "r2")
    assert not permits.forget("db")  # never used: nothing to delete
    assert claim(store, holder) is Claim.CLAIMED
    assert not permits.forget("db")  # held
    assert permits.wait(waiter, "db", 1, now=10)
    assert permits.release("db", "r1/s")
    assert not permits.forget("db")  # waited on
    assert permits.state("db").waiting == 1
    queued = store.get_step("r2", "s")
    assert queued is not None
    assert permits.abandon(queued, StepStatus.STOPPED, {"ended_at": 11, "reason": "run STOPPED"})
    assert permits.forget("db")
    assert not permits.forget("db")  # once
    state = permits.state("db")
    assert (state.active, state.holders, state.waiting, state.limit) == (0, {}, 0, None)
    assert permits.head("db") is None
    # Reading a forgotten key makes nothing again (the memory store's read made an
    # empty record, kept for good, one per run).
    assert not permits.forget("db")
    assert claim(store, ready(store, "r3")) is Claim.CLAIMED  # a new start of the key
    assert permits.state("db").holders == {"r3/s": 99}


def test_places_are_read_in_arrival_order_a_page_at_a_time(store: StateStore) -> None:
    """``places`` reads a key's queue in pages (service/runs.py tells a waiting step its
    place past the first 1,000), each going on after the last place of the one before."""
    permits = store.permits()
    assert claim(store, ready(store, "r0")) is Claim.CLAIMED
    for i, run in enumerate(["r3", "r1", "r2"]):  # arrival order, not run order
        assert permits.wait(ready(store, run), "db", 1, now=10 + i)
    assert permits.wait(ready(store, "r4"), "db", 1, now=11)  # r1's time: after it
    first = permits.places("db", 2)
    assert first == [QueuePlace("db", 10, "r3", "s"), QueuePlace("db", 11, "r1", "s")]
    rest = permits.places("db", 10, after=first[-1])
    assert rest == [QueuePlace("db", 11, "r4", "s"), QueuePlace("db", 12, "r2", "s")]
    assert permits.places("db", 10, after=rest[-1]) == []
    assert permits.places("other", 10) == []


def test_a_claim_past_the_keys_item_size_is_refused_as_full(store: StateStore) -> None:
    """DynamoDB keeps a key's holders in one item of at most 400 KB: a claim the item
    cannot hold is FULL (the step waits, as at the limit), not an error, and ``state``
    says the key is at its limit until there is room (a wake-up would only wake a head
    refused again). The memory fake and the SQLite home keep holders without a size
    bound: they cannot reproduce the refusal, and take the claim (the limit alone)."""
    if not isinstance(store, DynamoStateStore):
        assert claim(store, ready(store, "x" * 5_000)) is Claim.CLAIMED
        return
    item = {"pk": {"S": "K#db"}, "sk": {"S": "#PERMITS"}, "n": {"N": "1"}, "lim": {"N": "5"}}
    # One holder whose marker leaves the item 2 bytes short of moto's 405,000.
    big = f"{'p' * 404_968}/s"
    item[f"h:{big}"] = {"N": "99"}
    store._db.put_item(TableName="permits", Item=item)
    permits = store.permits()
    step = ready(store, "r1")
    changes = {"attempt": 1, "started_at": 5, "lease_until": 99}
    result = permits.claim(step, [PermitNeed("db", 5)], attempt=1, changes=changes)
    assert (result.outcome, result.full_key) == (Claim.FULL, "db")  # 1 of 5 held
    assert permits.state("db").limit == 1  # at its limit, as far as a wake-up goes
    assert permits.release("db", big)
    assert permits.state("db").limit == 5
    result = permits.claim(step, [PermitNeed("db", 5)], attempt=1, changes=changes)
    assert result.outcome is Claim.CLAIMED
