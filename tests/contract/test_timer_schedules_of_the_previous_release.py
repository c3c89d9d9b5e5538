"""Schedules made by the previous release (named by the timer's dedup key alone) after the
upgrade that names them by key and due time (adapters/timers.py ``schedule_name``)."""

from __future__ import annotations

import hashlib

import boto3
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.timers import SchedulerTarget, SchedulerTimers

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:{}"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


class _Queue:
    def send(self, message: dict, delay_seconds: int = 0) -> None:  # type: ignore[type-arg]
        pass

    def send_many(self, messages: list) -> None:  # type: ignore[type-arg]
        pass


def _old_name(dedup: str) -> str:
    """The previous release's ``schedule_name(dedup)``."""
    return "t-" + hashlib.sha256(dedup.encode()).hexdigest()[:60]


@mock_aws
def test_cancel_deletes_a_schedule_the_previous_release_made() -> None:
    """A long wait (a 2 h sleep, a signal wait's deadline) set before the upgrade had a
    schedule named by its dedup key alone. Ended another way after the upgrade, its
    cancel deleted only the new name and the old schedule was left to fire: the cancel
    now tries the old name when the new one is not there."""
    clock = ManualClock()
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    scheduler.create_schedule_group(Name="podium")
    timers = SchedulerTimers(
        _Queue(),  # type: ignore[arg-type]
        _Queue(),  # type: ignore[arg-type]
        clock,
        scheduler,
        group="podium",
        targets={q: SchedulerTarget(QUEUE_ARN.format(q), ROLE) for q in ("work", "events")},
    )
    dedup = "wake:run-1:sleep:1"
    due = clock.now_ms() + 2 * 3_600_000
    # As the previous release made it (same call, its name by the key alone).
    scheduler.create_schedule(
        Name=_old_name(dedup),
        GroupName="podium",
        ScheduleExpression="at(2030-01-01T00:00:00)",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={"Arn": QUEUE_ARN.format("work"), "RoleArn": ROLE, "Input": "{}"},
    )
    timers.cancel(dedup=dedup, due_ms=due, set_ms=clock.now_ms())
    left = [s["Name"] for s in scheduler.list_schedules(GroupName="podium")["Schedules"]]
    assert left == [], f"the cancelled wait's schedule {left} is left to fire"
