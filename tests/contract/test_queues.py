"""Contract suite for the embedded runtime's queues: the in-process LocalQueue and the
SQLite queue of the local home keep SQS's semantics alike (delays, visibility timeout,
receive count, dead letters).

SqsQueue is not run here: the suite moves time with a manual clock, and SQS (moto's
too) counts delays and visibility timeouts in real seconds. Its adapter is tested against
moto in tests/integration/test_sqs_adapter.py (batched sends, capped delays, a run
driven through it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.queues import LocalQueue
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.queue import SqliteQueue

Factory = Callable[..., Any]


@pytest.fixture(params=["local", "sqlite"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ManualClock, Factory]]:
    clock = ManualClock(start_ms=1_000_000)
    if request.param == "local":

        def local(name: str, **kwargs: Any) -> Any:
            return LocalQueue(name, clock, **kwargs)

        yield clock, local
        return
    db = Database(tmp_path / "podium.db")

    def sqlite(name: str, **kwargs: Any) -> Any:
        return SqliteQueue(db, name, clock, **kwargs)

    yield clock, sqlite
    db.close()


def bodies(batch: list[Any]) -> list[Any]:
    import json

    return [json.loads(m.body) for m in batch]


def test_messages_come_out_in_order_and_once_deleted_are_gone(make: Any) -> None:
    _, new = make
    q = new("work")
    q.send({"n": 1})
    q.send_many([{"n": 2}, {"n": 3}])
    q.send_many([])
    assert len(q) == 3 and q.sent == 3
    batch = q.receive(2)
    assert bodies(batch) == [{"n": 1}, {"n": 2}]
    assert [m.receive_count for m in batch] == [1, 1]
    assert bodies(q.receive(10)) == [{"n": 3}]
    assert q.receive(10) == []  # in flight: invisible
    for m in batch:
        q.delete(m.receipt)
    assert len(q) == 1
    assert q.bodies() == [{"n": 3}]


def test_delays_hold_a_message_back(make: Any) -> None:
    clock, new = make
    q = new("events")
    q.send({"late": True}, delay_seconds=30)
    q.send({"now": True})
    assert bodies(q.receive(10)) == [{"now": True}]
    assert q.next_visible_at() == 1_000_000 + 30_000
    clock.advance(29_999)
    assert q.receive(10) == []
    clock.advance(1)
    assert bodies(q.receive(10)) == [{"late": True}]


def test_a_delay_is_capped_at_fifteen_minutes(make: Any) -> None:
    clock, new = make
    q = new("events")
    q.send({"far": True}, delay_seconds=3600)
    assert q.next_visible_at() == 1_000_000 + 900_000
    clock.advance(900_000)
    assert bodies(q.receive(1)) == [{"far": True}]


def test_an_undeleted_message_comes_back_after_the_visibility_timeout(make: Any) -> None:
    clock, new = make
    q = new("work", visibility_timeout_seconds=10)
    q.send({"job": 1})
    (first,) = q.receive(1)
    first_id, first_receipt = first.message_id, first.receipt
    assert q.next_visible_at() == 1_000_000 + 10_000
    clock.advance(10_000)
    (again,) = q.receive(1)
    assert again.receive_count == 2 and again.message_id == first_id
    assert again.receipt != first_receipt
    q.delete(first_receipt)  # a stale receipt deletes nothing
    assert len(q) == 1
    q.delete(again.receipt)
    assert len(q) == 0 and q.next_visible_at() is None


def test_dead_letters_after_the_receive_limit(make: Any) -> None:
    clock, new = make
    dlq = new("work-dlq")
    q = new("work", visibility_timeout_seconds=1, max_receives=2, dead_letters=dlq)
    q.send({"poison": True})
    q.send({"fine": True}, delay_seconds=5)
    for expected in (1, 2):
        (m,) = q.receive(1)
        assert m.receive_count == expected
        clock.advance(1000)
    assert q.receive(1) == []  # the third receive moves it to the DLQ instead
    assert dlq.bodies() == [{"poison": True}]
    assert len(q) == 1
    clock.advance(5000)
    assert bodies(q.receive(5)) == [{"fine": True}]
    (dead,) = dlq.receive(1)
    assert dead.receive_count == 1


def test_a_dead_letter_does_not_take_a_place_in_the_batch(make: Any) -> None:
    clock, new = make
    dlq = new("dlq")
    q = new("work", visibility_timeout_seconds=1, max_receives=1, dead_letters=dlq)
    q.send({"poison": True})
    q.receive(1)
    clock.advance(1000)
    q.send({"a": 1})
    q.send({"b": 2})
    assert bodies(q.receive(2)) == [{"a": 1}, {"b": 2}]
    assert dlq.bodies() == [{"poison": True}]


def test_without_a_dlq_a_message_keeps_coming_back(make: Any) -> None:
    clock, new = make
    q = new("work", visibility_timeout_seconds=1, max_receives=1)
    q.send({"x": 1})
    for expected in (1, 2, 3):
        (m,) = q.receive(1)
        assert m.receive_count == expected
        clock.advance(1000)


def test_queues_are_separate(make: Any) -> None:
    _, new = make
    a, b = new("a"), new("b")
    a.send({"to": "a"})
    b.send({"to": "b"})
    assert bodies(a.receive(10)) == [{"to": "a"}]
    assert bodies(b.receive(10)) == [{"to": "b"}]


def test_send_requests_are_counted_as_sqs_bills_them(make: Any) -> None:
    _, new = make
    q = new("work")
    q.send({"n": 0})
    q.send_many([{"n": i} for i in range(25)])
    assert (q.sent, q.send_requests) == (26, 4)


def test_sqlite_messages_survive_the_process(tmp_path: Path) -> None:
    clock = ManualClock(start_ms=1_000_000)
    db = Database(tmp_path / "podium.db")
    SqliteQueue(db, "work", clock).send({"kept": True}, delay_seconds=1)
    db.close()
    reopened = Database(tmp_path / "podium.db")
    q = SqliteQueue(reopened, "work", clock)
    assert q.next_visible_at() == 1_001_000
    clock.advance(1000)
    assert bodies(q.receive(1)) == [{"kept": True}]
    reopened.close()


def test_a_batch_is_deleted_at_once_and_stale_receipts_delete_nothing(make: Any) -> None:
    clock, new = make
    q = new("work", visibility_timeout_seconds=10)
    q.send_many([{"n": 1}, {"n": 2}, {"n": 3}])
    first = [m.receipt for m in q.receive(3)]
    clock.advance(10_000)
    again = q.receive(1)  # n=1 again: its first receipt is stale now
    q.delete_many(first)
    assert q.bodies() == [{"n": 1}]
    q.delete_many([])
    q.delete_many([again[0].receipt])
    assert len(q) == 0
