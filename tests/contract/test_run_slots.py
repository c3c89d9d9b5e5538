"""Contract suite for RunSlots: the memory fake and DynamoDB on moto behave alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.adapters.table_schema import create_table
from podium.core.engine.checks import first_check
from podium.core.engine.errors import RunConflict
from podium.core.engine.records import QueueEntry, RunRecord
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission, StateStore


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
        create_table(client, "slots")
        yield DynamoStateStore(client, "slots")


def queued(run_id: str, created: int) -> RunRecord:
    return RunRecord(run_id, "wf", 1, RunStatus.QUEUED, {}, created, sinks_total=1)


def test_queue_is_fifo_and_admission_respects_the_limit(store: StateStore) -> None:
    slots = store.run_slots()
    for i, created in enumerate([30, 10, 20]):
        slots.enqueue(queued(f"r{i}", created))
    assert [e.run_id for e in slots.queued("wf", 10)] == ["r1", "r2", "r0"]
    first, second, third = slots.queued("wf", 10)
    assert slots.admit(first, limit=2, strict=False, now=100, check_at=100) is Admission.ADMITTED
    assert slots.admit(first, limit=2, strict=False, now=100, check_at=100) is Admission.GONE
    assert slots.admit(second, limit=2, strict=False, now=101, check_at=101) is Admission.ADMITTED
    assert slots.admit(third, limit=2, strict=False, now=102, check_at=102) is Admission.FULL
    assert store.get_run("r1").status is RunStatus.RUNNING
    assert store.get_run("r1").started_at == 100
    assert store.get_run("r0").status is RunStatus.QUEUED
    state = slots.state("wf")
    assert (state.active, set(state.holders)) == (2, {"r1", "r2"})
    assert [e.run_id for e in slots.queued("wf", 10)] == ["r0"]


def test_release_is_once_and_strict_blocks(store: StateStore) -> None:
    slots = store.run_slots()
    slots.enqueue(queued("a", 1))
    slots.enqueue(queued("b", 2))
    entry_a, entry_b = slots.queued("wf", 10)
    assert slots.admit(entry_a, limit=1, strict=True, now=5, check_at=5) is Admission.ADMITTED
    assert slots.release("wf", "a", block=True)
    assert not slots.release("wf", "a", block=True)  # a duplicate frees nothing
    assert slots.state("wf").active == 0 and slots.state("wf").blocked_by == "a"
    assert slots.admit(entry_b, limit=1, strict=True, now=6, check_at=6) is Admission.BLOCKED
    slots.unblock("wf")
    assert slots.admit(entry_b, limit=1, strict=True, now=7, check_at=7) is Admission.ADMITTED


def test_admission_sets_the_runs_next_check_in_the_same_write(store: StateStore) -> None:
    """A queued run looked at by a sweep had its check half an hour out; an admitter
    that died before sending the run's start left it RUNNING with no steps until then."""
    slots = store.run_slots()
    slots.enqueue(queued("a", 1))
    store.set_run_check("a", 10_000_000)  # a sweep saw it queued: half an hour out
    (entry,) = slots.queued("wf", 10)
    assert slots.admit(entry, limit=1, strict=False, now=500, check_at=300_500) is (
        Admission.ADMITTED
    )
    run = store.get_run("a")
    assert (run.status, run.started_at, first_check(run)) == (RunStatus.RUNNING, 500, 300_500)
    assert "a" not in store.list_due_run_ids(300_499, 10)
    assert store.list_due_run_ids(300_500, 10) == ["a"]


def test_a_run_admitted_under_another_strategy_clears_a_block(store: StateStore) -> None:
    """strict_sequential's block belongs to the strict queue: a run admitted (or started
    alone) while the workflow runs another strategy clears it, so switching back to
    strict_sequential later is not blocked by a failure runs have gone past since."""
    slots = store.run_slots()
    for i, run_id in enumerate(["a", "b", "c"]):
        slots.enqueue(queued(run_id, i + 1))
    entry_a, entry_b, entry_c = slots.queued("wf", 10)
    assert slots.admit(entry_a, limit=1, strict=True, now=5, check_at=5) is Admission.ADMITTED
    assert slots.release("wf", "a", block=True)
    assert slots.admit(entry_b, limit=1, strict=True, now=6, check_at=6) is Admission.BLOCKED
    assert slots.state("wf").blocked_by == "a"  # a refused strict admission keeps it
    assert slots.admit(entry_b, limit=1, strict=False, now=7, check_at=7) is Admission.ADMITTED
    assert slots.state("wf").blocked_by is None
    assert slots.release("wf", "b", block=False)
    assert slots.admit(entry_c, limit=1, strict=True, now=8, check_at=8) is Admission.ADMITTED
    assert slots.release("wf", "c", block=True)  # blocked again; first_only clears it
    alone = RunRecord("d", "wf", 1, RunStatus.RUNNING, {}, 9, sinks_total=1, started_at=9)
    assert slots.start_alone(alone, 9) is None
    assert slots.state("wf").blocked_by is None


def test_start_alone_holds_the_only_slot(store: StateStore) -> None:
    slots = store.run_slots()
    first = RunRecord("f1", "wf", 1, RunStatus.RUNNING, {}, 1, sinks_total=1, started_at=1)
    assert slots.start_alone(first, 1) is None
    second = RunRecord("f2", "wf", 1, RunStatus.RUNNING, {}, 2, sinks_total=1, started_at=2)
    taken = slots.start_alone(second, 2)
    assert taken is not None and set(taken.holders) == {"f1"}
    with pytest.raises(RunConflict):
        slots.release("wf", "f1", block=False)
        slots.start_alone(first, 3)


def test_drop_queued_only_from_the_queue(store: StateStore) -> None:
    slots = store.run_slots()
    slots.enqueue(queued("q", 1))
    (entry,) = slots.queued("wf", 10)
    assert slots.drop_queued(entry, RunStatus.DISCARDED, "replaced", 9)
    assert not slots.drop_queued(entry, RunStatus.DISCARDED, "replaced", 9)
    run = store.get_run("q")
    assert (run.status, run.reason, run.ended_at) == (RunStatus.DISCARDED, "replaced", 9)
    assert slots.queued("wf", 10) == []
    gone = QueueEntry("wf", "q", 1)
    assert slots.admit(gone, limit=1, strict=False, now=10, check_at=10) is Admission.GONE


def test_runs_created_in_one_millisecond_queue_in_the_order_they_were_enqueued(
    store: StateStore,
) -> None:
    """The queue ordered runs created in one millisecond by run id: a backfill's runs
    (ids whose time is their scheduled time) queued --backwards ran oldest first."""
    slots = store.run_slots()
    for run_id in ["r5", "r4", "r3"]:  # enqueued newest first, all at created 7
        slots.enqueue(queued(run_id, 7))
    slots.enqueue(queued("r9", 6))  # an earlier creation still goes first
    assert [e.run_id for e in slots.queued("wf", 10)] == ["r9", "r5", "r4", "r3"]
    first, second, *_ = slots.queued("wf", 10)
    assert slots.admit(first, limit=2, strict=False, now=8, check_at=8) is Admission.ADMITTED
    assert slots.admit(second, limit=2, strict=False, now=8, check_at=8) is Admission.ADMITTED
    assert [e.run_id for e in slots.queued("wf", 10)] == ["r4", "r3"]


def test_queued_pages_on_after_the_last_entry_read_even_once_it_left(store: StateStore) -> None:
    """A cancel read one page of the queue (1,000 entries): a longer queue had runs no
    page reached. ``after`` reads the next page, from an entry the page before listed,
    though that entry was dropped meanwhile."""
    slots = store.run_slots()
    for i in range(7):
        slots.enqueue(queued(f"r{i}", 5 if i < 4 else 6))
    seen: list[str] = []
    page = slots.queued("wf", 3)
    while page:
        seen += [e.run_id for e in page]
        for entry in page:  # as a cancel does: each entry leaves the queue
            assert slots.drop_queued(entry, RunStatus.STOPPED, "cancelled", 9)
        page = slots.queued("wf", 3, after=page[-1])
    assert seen == [f"r{i}" for i in range(7)]
    assert slots.queued("wf", 10) == []
    # An entry made from its run (as a stop makes it) is placed by its queue entry.
    for i in range(3):
        slots.enqueue(queued(f"s{i}", 10))
    plain = QueueEntry("wf", "s0", 10)
    assert [e.run_id for e in slots.queued("wf", 10, after=plain)] == ["s1", "s2"]
    assert slots.drop_queued(plain, RunStatus.STOPPED, "stopped", 11)
    assert [e.run_id for e in slots.queued("wf", 10)] == ["s1", "s2"]


def test_an_entry_queued_in_the_old_key_layout_is_read_admitted_and_dropped() -> None:
    """DynamoDB: entries queued before the queue kept its order (``Q#<created>#<run>``,
    still in deployed tables) are read, admitted and removed like new ones."""
    from podium.adapters import dynamo_codec as c

    with mock_aws():
        import boto3

        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "slots")
        store = DynamoStateStore(client, "slots")
        for run_id, created in (("old1", 3), ("old2", 4)):
            client.put_item(TableName="slots", Item=c.run_to_item(queued(run_id, created)))
            item = c.key(c.workflow_pk("wf"), f"Q#{created:013d}#{run_id}")
            client.put_item(TableName="slots", Item={**item, "run": {"S": run_id}})
        slots = store.run_slots()
        slots.enqueue(queued("new", 5))
        assert [e.run_id for e in slots.queued("wf", 10)] == ["old1", "old2", "new"]
        first, *_ = slots.queued("wf", 10)
        assert slots.admit(first, limit=5, strict=False, now=5, check_at=5) is (Admission.ADMITTED)
        assert store.get_run("old1").status is RunStatus.RUNNING
        # Dropped from an entry made from the run (a stop), which carries no key.
        assert slots.drop_queued(QueueEntry("wf", "old2", 4), RunStatus.STOPPED, "stop", 6)
        assert store.get_run("old2").status is RunStatus.STOPPED
        assert [e.run_id for e in slots.queued("wf", 10)] == ["new"]
        queue = client.query(
            TableName="slots",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :q)",
            ExpressionAttributeValues={":pk": {"S": "W#wf"}, ":q": {"S": "Q#"}},
        )["Items"]
        assert [i["run"]["S"] for i in queue] == ["new"]


def test_a_home_queued_in_before_the_queue_kept_its_order_is_read_then_upgraded(
    tmp_path: Path,
) -> None:
    """SQLite: a home made before ``run_queue.seq`` is read in its old order, and the
    first enqueue adds the column; its old rows come first in their millisecond."""
    from podium.adapters.sqlite.rows import insert_run

    home = SqliteStateStore(tmp_path / "podium.db")
    try:
        with home.db.write() as conn:
            assert "seq" not in {r[1] for r in conn.execute("PRAGMA table_info(run_queue)")}
            insert_run(conn, queued("old", 4))
            conn.execute(
                "INSERT INTO run_queue (workflow, created_at, run_id) VALUES ('wf', 4, 'old')"
            )
        slots = home.run_slots()
        assert [e.run_id for e in slots.queued("wf", 10)] == ["old"]
        slots.enqueue(queued("new", 4))
        assert [e.run_id for e in slots.queued("wf", 10)] == ["old", "new"]
        first, _ = slots.queued("wf", 10)
        assert slots.admit(first, limit=5, strict=False, now=5, check_at=5) is (Admission.ADMITTED)
        assert [e.run_id for e in slots.queued("wf", 10, after=first)] == ["new"]
    finally:
        home.close()


def test_an_admission_past_the_slots_item_size_is_refused_as_full(store: StateStore) -> None:
    """DynamoDB keeps a workflow's slot holders in one item of at most 400 KB: an
    admission the item cannot hold is FULL (the run stays queued), not an error. The
    memory fake and the SQLite home keep holders without a size bound: they cannot
    reproduce the refusal, and admit (the limit alone)."""
    slots = store.run_slots()
    slots.enqueue(queued("r1", 10))
    (entry,) = slots.queued("wf", 10)
    if isinstance(store, DynamoStateStore):
        # One holder whose marker leaves the item 2 bytes short of moto's 405,000 (the
        # key's 12 bytes, ``n`` 2, the marker ``h:`` + 404,978 + its 2-byte value).
        item = {"pk": {"S": "W#wf"}, "sk": {"S": "#SLOTS"}, "n": {"N": "1"}}
        item[f"h:{'p' * 404_978}"] = {"N": "99"}
        store._db.put_item(TableName="slots", Item=item)
        assert slots.admit(entry, limit=5, strict=False, now=100, check_at=100) is Admission.FULL
        assert store.get_run("r1").status is RunStatus.QUEUED
        assert slots.release("wf", "p" * 404_978, block=False)  # room again
    assert slots.admit(entry, limit=5, strict=False, now=100, check_at=100) is Admission.ADMITTED
    assert store.get_run("r1").status is RunStatus.RUNNING
