"""Scheduler schedules (cron and rate triggers, timers over 15 minutes) were made with a
retry policy but no DeadLetterConfig: a firing that failed for Scheduler's 24 hours was
dropped without a trace. Deployed (bootstrap.py, from the construct's
PODIUM_WORK_DLQ_ARN and PODIUM_EVENT_DLQ_ARN), each schedule now names the DLQ of the
queue it sends to, where the DLQ alarm sees it and ``podium dlq redrive`` sends it on.
On moto's Scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium import bootstrap
from podium.core.ports import SCHEDULED_TIME, ScheduleSpec

ACCOUNT, REGION = "123456789012", "us-east-1"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:" + "{}"
ENV = {
    "PODIUM_TABLE_NAME": "t",
    "PODIUM_WORK_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/work",
    "PODIUM_EVENT_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/events",
    "PODIUM_WORK_QUEUE_ARN": QUEUE.format("work"),
    "PODIUM_EVENT_QUEUE_ARN": QUEUE.format("events"),
    "PODIUM_SCHEDULE_GROUP": "podium",
    "PODIUM_SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
    "PODIUM_WORK_DLQ_ARN": QUEUE.format("work-dlq"),
    "PODIUM_EVENT_DLQ_ARN": QUEUE.format("events-dlq"),
    "AWS_REGION": REGION,
}


@pytest.fixture
def scheduler() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("scheduler", region_name=REGION)
        client.create_schedule_group(Name="podium")
        yield client


def _targets(scheduler: Any) -> dict[str, dict[str, Any]]:
    """Each schedule's Target, by the queue it sends to."""
    found = {}
    for item in scheduler.list_schedules(GroupName="podium")["Schedules"]:
        target = scheduler.get_schedule(Name=item["Name"], GroupName="podium")["Target"]
        found[target["Arn"].rsplit(":", 1)[1]] = target
    return found


def test_long_timers_name_the_dlq_of_their_queue(scheduler: Any) -> None:
    services = bootstrap.from_environment(ENV)
    now = services.clock.now_ms()
    hour = 3_600_000
    services.timers.schedule({"t": "step"}, now + hour, queue="work", dedup="a")
    services.timers.schedule({"t": "timeout"}, now + hour, queue="events", dedup="b")
    targets = _targets(scheduler)
    assert targets["work"]["DeadLetterConfig"] == {"Arn": QUEUE.format("work-dlq")}
    assert targets["events"]["DeadLetterConfig"] == {"Arn": QUEUE.format("events-dlq")}


def test_trigger_schedules_name_the_event_queues_dlq(scheduler: Any) -> None:
    services = bootstrap.from_environment(ENV)
    services.schedules.put(
        ScheduleSpec(
            name="etl-nightly",
            expression="cron(0 6 * * ? *)",
            timezone="UTC",
            message={"t": "fire", "wf": "etl", "tr": "nightly", "at": SCHEDULED_TIME},
            cron="0 6 * * *",
        )
    )
    targets = _targets(scheduler)
    assert targets["events"]["DeadLetterConfig"] == {"Arn": QUEUE.format("events-dlq")}


def test_without_the_dlqs_schedules_are_made_as_before(scheduler: Any) -> None:
    env = {k: v for k, v in ENV.items() if "DLQ" not in k}
    services = bootstrap.from_environment(env)
    services.timers.schedule(
        {"t": "step"}, services.clock.now_ms() + 3_600_000, queue="work", dedup="a"
    )
    assert "DeadLetterConfig" not in _targets(scheduler)["work"]
