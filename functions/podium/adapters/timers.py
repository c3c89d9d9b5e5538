"""Timers: a message delivered at a due time.

``QueueTimers`` uses SQS delays alone: up to 15 minutes in one send; a longer wait
travels as a chain of 15-minute delays carrying its due time (``nb``), which the inbox
re-sends until it is due (one SQS request per 15 minutes of wait).

``SchedulerTimers`` sends waits up to 15 minutes the same way and gives a longer one to a
one-time EventBridge Scheduler schedule (``at(...)``) that puts the message on the queue
when it is due and deletes itself: one Scheduler call however long the wait. A schedule
is named by the timer's dedup key and due time (``schedule_name``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from podium.core.ports import Clock, MessageQueue

SQS_MAX_DELAY_SECONDS = 900


def _delay_seconds(due_ms: int, now_ms: int) -> int:
    return max(0, -(-(due_ms - now_ms) // 1000))


class QueueTimers:
    def __init__(self, work: MessageQueue, events: MessageQueue, clock: Clock) -> None:
        self._queues = {"work": work, "events": events}
        self._clock = clock

    def schedule(self, message: Mapping[str, Any], due_ms: int, *, queue: str, dedup: str) -> None:
        target = self._queues[queue]
        delay = _delay_seconds(due_ms, self._clock.now_ms())
        if delay <= SQS_MAX_DELAY_SECONDS:
            target.send(dict(message), delay)
        else:
            target.send({**message, "nb": due_ms}, SQS_MAX_DELAY_SECONDS)

    def cancel(self, *, dedup: str, due_ms: int, set_ms: int | None = None) -> None:
        return None  # an SQS delay cannot be withdrawn: its receiver drops it


# Scheduler retries a delivery that failed for up to 24 hours (its maximum age).
RETRY_POLICY = {"MaximumRetryAttempts": 185}


@dataclass(frozen=True)
class SchedulerTarget:
    queue_arn: str
    role_arn: str  # Scheduler assumes it to send to the queue
    # Where a firing goes once its retries are spent (the queue's own DLQ, so ``podium
    # dlq redrive`` sends it on); None: it is dropped without a trace.
    dead_letter_arn: str | None = None

    def request(self, body: str) -> dict[str, Any]:
        """A schedule's ``Target``: the queue, the role, the message, the retries and
        the dead-letter queue."""
        target: dict[str, Any] = {
            "Arn": self.queue_arn,
            "RoleArn": self.role_arn,
            "Input": body,
            "RetryPolicy": dict(RETRY_POLICY),
        }
        if self.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": self.dead_letter_arn}
        return target


class SchedulerTimers:
    def __init__(
        self,
        work: MessageQueue,
        events: MessageQueue,
        clock: Clock,
        scheduler: Any,
        *,
        group: str,
        targets: Mapping[str, SchedulerTarget],
    ) -> None:
        self._short = QueueTimers(work, events, clock)
        self._clock = clock
        self._scheduler = scheduler
        self._group = group
        self._targets = dict(targets)

    def schedule(self, message: Mapping[str, Any], due_ms: int, *, queue: str, dedup: str) -> None:
        if _delay_seconds(due_ms, self._clock.now_ms()) <= SQS_MAX_DELAY_SECONDS:
            self._short.schedule(message, due_ms, queue=queue, dedup=dedup)
            return
        target = self._targets[queue]
        at = datetime.fromtimestamp(-(-due_ms // 1000), UTC).strftime("%Y-%m-%dT%H:%M:%S")
        # The message keeps its due time: a schedule that fires early is deferred again.
        body = json.dumps({**message, "nb": due_ms}, separators=(",", ":"))
        try:
            self._scheduler.create_schedule(
                Name=schedule_name(dedup, due_ms),
                GroupName=self._group,
                ScheduleExpression=f"at({at})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target.request(body),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            # The same timer again (a replayed decision): the schedule exists already.

    def cancel(self, *, dedup: str, due_ms: int, set_ms: int | None = None) -> None:
        """Delete the schedule of a long wait that ended another way (a stopped sleep, a
        step that finished before its deadline), so none is left until it fires. A wait
        within 15 minutes when it was set made no schedule: no call. Judged from when it
        was set (``set_ms``), not from now: a long wait ended in its last 15 minutes
        still has its schedule."""
        since = self._clock.now_ms() if set_ms is None else min(set_ms, self._clock.now_ms())
        if _delay_seconds(due_ms, since) <= SQS_MAX_DELAY_SECONDS:
            return
        # A wait set before schedules were named by their due time too (2026-12) has
        # its schedule under the key alone: looked for when the new name is not there.
        for name in (schedule_name(dedup, due_ms), legacy_schedule_name(dedup)):
            try:
                self._scheduler.delete_schedule(Name=name, GroupName=self._group)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                # It fired (and deleted itself) or was never made.


def schedule_name(dedup: str, due_ms: int) -> str:
    """Scheduler names are at most 64 characters of [0-9a-zA-Z-_.]: a digest of the key
    and the due time. The same timer again (a replayed decision) is the same schedule;
    one key at a new time is another timer: a wait for signals retried after it timed
    out (keyed by its run and step), an attempt polled again later. Named by the key
    alone, its schedule met the earlier one (not yet fired, or fired and not yet
    deleted) and was never made."""
    return "t-" + hashlib.sha256(f"{dedup}@{due_ms}".encode()).hexdigest()[:60]


def legacy_schedule_name(dedup: str) -> str:
    """What ``schedule_name`` was before it named the due time: the key's digest alone."""
    return "t-" + hashlib.sha256(dedup.encode()).hexdigest()[:60]
