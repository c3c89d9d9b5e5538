"""Contract suite for the Timers port, run on its three adapters: SQS delays alone, SQS
delays with EventBridge Scheduler (on moto) beyond 15 minutes, and the local home's
(a delay up to 15 minutes, else one row made visible at its due time).

The contract: a message is handed to its queue no later than its due time; one due within
15 minutes is an SQS delay of the remaining seconds, as sent; one due later carries its
due time as ``nb``, so whatever delivers it early (a 15-minute hop, a schedule) is sent
on by the inbox until due. What differs, and is not part of the contract: the Scheduler
adapter creates one schedule per dedup key and due time; the SQS-only and home ones send every time (a
timer that fires twice is harmless by design). The queues here record what they are given
(the queues' own behaviour is their contract suite's, tests/contract/test_queues.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.timers import SqliteTimers
from podium.adapters.timers import QueueTimers, SchedulerTarget, SchedulerTimers

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:{}"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


class RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], int]] = []
        self.sent_at: list[tuple[dict[str, Any], int]] = []  # the home's: visible at a time

    def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
        self.sent.append((dict(message), delay_seconds))

    def send_at(self, message: dict[str, Any], due_ms: int) -> None:
        self.sent_at.append((dict(message), due_ms))

    def send_many(self, messages: list[dict[str, Any]]) -> None:
        self.sent.extend((dict(m), 0) for m in messages)


class World:
    """The adapter under test, and where its messages are before they arrive."""

    def __init__(self, kind: str) -> None:
        self.clock = ManualClock()
        self.queues = {"work": RecordingQueue(), "events": RecordingQueue()}
        self.scheduler: Any = None
        if kind == "queue":
            self.timers: Any = QueueTimers(self.queues["work"], self.queues["events"], self.clock)
            return
        if kind == "sqlite":
            self.timers = SqliteTimers(self.queues["work"], self.queues["events"], self.clock)  # type: ignore[arg-type]
            return
        self.scheduler = boto3.client("scheduler", region_name="us-east-1")
        self.scheduler.create_schedule_group(Name="podium")
        targets = {q: SchedulerTarget(QUEUE_ARN.format(q), ROLE) for q in self.queues}
        self.timers = SchedulerTimers(
            self.queues["work"],
            self.queues["events"],
            self.clock,
            self.scheduler,
            group="podium",
            targets=targets,
        )

    def pending(self, queue: str) -> list[tuple[dict[str, Any], int]]:
        """(body, the earliest time it reaches the queue) for everything scheduled."""
        now = self.clock.now_ms()
        out = [(body, now + delay * 1000) for body, delay in self.queues[queue].sent]
        out += self.queues[queue].sent_at
        if self.scheduler is not None:
            for item in self.scheduler.list_schedules(GroupName="podium")["Schedules"]:
                got = self.scheduler.get_schedule(Name=item["Name"], GroupName="podium")
                if got["Target"]["Arn"] != QUEUE_ARN.format(queue):
                    continue
                match = re.fullmatch(r"at\((.+)\)", got["ScheduleExpression"])
                assert match is not None
                at = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
                out.append((json.loads(got["Target"]["Input"]), int(at.timestamp() * 1000)))
        return out


@pytest.fixture(params=["queue", "scheduler", "sqlite"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    with mock_aws():
        yield World(request.param)


BODY = {"t": "done", "run": "r", "step": "s", "attempt": 1, "e": {"kind": "timer"}}


def test_a_short_wait_is_an_sqs_delay_of_the_remaining_seconds(world: World) -> None:
    due = world.clock.now_ms() + 61_500
    world.timers.schedule(BODY, due, queue="events", dedup="a")
    assert world.pending("events") == [(BODY, world.clock.now_ms() + 62_000)]
    assert world.pending("work") == []


def test_a_due_or_past_timer_is_sent_now(world: World) -> None:
    world.timers.schedule(BODY, world.clock.now_ms() - 5_000, queue="work", dedup="b")
    assert world.pending("work") == [(BODY, world.clock.now_ms())]


@pytest.mark.parametrize("hours", [1, 24 * 30])
def test_a_long_wait_carries_its_due_time_and_never_arrives_late(world: World, hours: int) -> None:
    due = world.clock.now_ms() + hours * 3_600_000
    world.timers.schedule(BODY, due, queue="events", dedup=f"long-{hours}")
    pending = world.pending("events")
    assert pending, "nothing was scheduled"
    for body, earliest in pending:
        assert body == {**BODY, "nb": due}
        assert earliest <= due


def test_cancel_withdraws_a_long_wait_where_it_can_and_is_always_harmless(world: World) -> None:
    due = world.clock.now_ms() + 2 * 3_600_000
    world.timers.schedule(BODY, due, queue="events", dedup="c")
    world.timers.cancel(dedup="c", due_ms=due)
    world.timers.cancel(dedup="c", due_ms=due)  # again: harmless
    world.timers.cancel(dedup="never-made", due_ms=due)
    if world.scheduler is not None:
        # A schedule is deleted: nothing is left to fire (or to count against the quota).
        assert world.pending("events") == []
    else:
        # Not part of the contract: an SQS delay (or a home's row) cannot be withdrawn. It
        # still arrives, and its receiver finds the attempt closed and drops it.
        assert [body for body, _ in world.pending("events")] == [{**BODY, "nb": due}]


def test_cancelling_a_short_wait_makes_no_call(world: World) -> None:
    due = world.clock.now_ms() + 60_000
    world.timers.schedule(BODY, due, queue="events", dedup="d")
    if world.scheduler is not None:
        world.scheduler = None  # any Scheduler call now fails the test
        world.timers._scheduler = None
    world.timers.cancel(dedup="d", due_ms=due)
