"""Contract suite for the DeadLetterQueues port, run on both adapters: a stack's SQS DLQs
(on moto) and the local home's dead-letter queues (SQLite).

The contract: ``counts`` says how many each DLQ holds; ``peek`` lists each dead letter
once, up to ``limit`` shared between the DLQs (one full DLQ does not hide another's),
and leaves it where it is; ``purge`` deletes one DLQ's, up to ``limit``; ``redrive`` moves dead letters back to the queue they came from (the work DLQ to
the work queue, the event DLQ to the event queue), up to ``limit``, and returns them; a
redriven message is gone from the DLQ. Only the stack has a trigger DLQ (EventBridge
deliveries the events function could not take), which has no queue to go back to: its
letters stay listed (checked on SQS only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.dead_letters import HomeDeadLetters
from podium.adapters.sqlite.queue import SqliteQueue
from podium.adapters.sqs_dead_letters import SqsDeadLetters


class World:
    """The adapter, a way to put a dead letter on a DLQ, and what reached a queue."""

    dead_letters: Any

    def kill(self, queue: str, body: dict[str, Any]) -> None: ...

    def arrived(self, queue: str) -> list[dict[str, Any]]: ...


class SqsWorld(World):
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        url = {n: self.sqs.create_queue(QueueName=n)["QueueUrl"] for n in (
            "work", "events", "work-dlq", "event-dlq", "trigger-dlq")}  # fmt: skip
        self.url = url
        self.dead_letters = SqsDeadLetters(
            self.sqs,
            {
                "work": (url["work-dlq"], url["work"]),
                "event": (url["event-dlq"], url["events"]),
                "trigger": (url["trigger-dlq"], None),
            },
        )

    def kill(self, queue: str, body: dict[str, Any]) -> None:
        dlq = {"work": "work-dlq", "event": "event-dlq", "trigger": "trigger-dlq"}[queue]
        self.sqs.send_message(QueueUrl=self.url[dlq], MessageBody=json.dumps(body))

    def arrived(self, queue: str) -> list[dict[str, Any]]:
        target = {"work": "work", "event": "events"}[queue]
        got = self.sqs.receive_message(QueueUrl=self.url[target], MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]


class HomeWorld(World):
    def __init__(self, path: Path) -> None:
        self.clock = ManualClock()
        db = Database(path)
        self.db = db
        self.queues = {n: SqliteQueue(db, n, self.clock) for n in (
            "work", "events", "work-dlq", "event-dlq")}  # fmt: skip
        self.dead_letters = HomeDeadLetters(db, self.clock)

    def kill(self, queue: str, body: dict[str, Any]) -> None:
        self.queues[{"work": "work-dlq", "event": "event-dlq"}[queue]].send(body)

    def arrived(self, queue: str) -> list[dict[str, Any]]:
        got = self.queues[{"work": "work", "event": "events"}[queue]].receive(10)
        return [json.loads(m.body) for m in got]


@pytest.fixture(params=["sqs", "home"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "home":
        home = HomeWorld(tmp_path / "podium.db")
        yield home
        home.db.close()
        return
    with mock_aws():
        yield SqsWorld()


def test_peek_lists_each_dead_letter_once_and_leaves_it(world: World) -> None:
    world.kill("work", {"t": "exec", "run": "r1", "step": "a", "attempt": 1})
    world.kill("event", {"t": "start", "run": "r2"})
    first = world.dead_letters.peek(100)
    assert sorted((d.queue, json.loads(d.body)["run"]) for d in first) == [
        ("event", "r2"),
        ("work", "r1"),
    ]
    assert len({d.message_id for d in first}) == 2
    again = world.dead_letters.peek(100)  # left where it was
    assert sorted(d.message_id for d in again) == sorted(d.message_id for d in first)


def test_peek_stops_at_its_limit(world: World) -> None:
    for n in range(5):
        world.kill("work", {"t": "start", "run": f"r{n}"})
    assert len(world.dead_letters.peek(3)) == 3


def test_redrive_sends_each_back_where_it_came_from(world: World) -> None:
    work = {"t": "exec", "run": "r1", "step": "a", "attempt": 1}
    start = {"t": "start", "run": "r2"}
    world.kill("work", work)
    world.kill("event", start)
    moved = world.dead_letters.redrive(100)
    assert sorted(d.queue for d in moved) == ["event", "work"]
    assert world.arrived("work") == [work]
    assert world.arrived("event") == [start]
    assert world.dead_letters.peek(100) == []


def test_redrive_stops_at_its_limit(world: World) -> None:
    for n in range(4):
        world.kill("work", {"t": "start", "run": f"r{n}"})
    assert len(world.dead_letters.redrive(3)) == 3
    assert len(world.dead_letters.peek(100)) == 1


def test_a_trigger_dead_letter_has_nowhere_to_go_and_stays() -> None:
    with mock_aws():
        stack = SqsWorld()
        stack.kill("trigger", {"source": "aws.s3", "detail-type": "Object Created"})
        assert stack.dead_letters.redrive(100) == []
        (left,) = stack.dead_letters.peek(100)
        assert left.queue == "trigger"


def test_peek_of_the_redrivable_lists_what_a_redrive_moves(world: World) -> None:
    """``redrivable_only``: the dry run of a redrive (service/dead_letters.py) lists the
    messages the redrive would move, up to the same limit."""
    for n in range(3):
        world.kill("work", {"t": "start", "run": f"r{n}"})
    listed = world.dead_letters.peek(2, redrivable_only=True)
    moved = world.dead_letters.redrive(2)
    assert len(listed) == len(moved) == 2
    assert {d.queue for d in listed} == {d.queue for d in moved} == {"work"}


def test_counts_say_what_each_dlq_holds(world: World) -> None:
    for n in range(3):
        world.kill("work", {"t": "start", "run": f"r{n}"})
    world.kill("event", {"t": "start", "run": "e"})
    held = {c.queue: (c.waiting, c.in_flight) for c in world.dead_letters.counts()}
    assert held["work"] == (3, 0) and held["event"] == (1, 0)
    world.dead_letters.peek(100)  # a peek leaves them visible
    assert {c.queue: c.waiting for c in world.dead_letters.counts()}["work"] == 3


def test_peek_shares_its_limit_between_the_dlqs(world: World) -> None:
    for n in range(6):
        world.kill("event", {"t": "start", "run": f"e{n}"})
    world.kill("work", {"t": "start", "run": "w"})
    listed = world.dead_letters.peek(4)
    assert sorted(d.queue for d in listed) == ["event", "event", "event", "work"]


def test_purge_deletes_one_dlqs_dead_letters(world: World) -> None:
    for n in range(3):
        world.kill("work", {"t": "start", "run": f"r{n}"})
    world.kill("event", {"t": "start", "run": "e"})
    assert len(world.dead_letters.purge("work", 2)) == 2
    deleted = world.dead_letters.purge("work", 100)
    assert len(deleted) == 1
    assert [d.queue for d in world.dead_letters.peek(100)] == ["event"]
    assert world.arrived("work") == []  # deleted, not sent anywhere
