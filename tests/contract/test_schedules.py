"""Contract suite for the Schedules port, run on both adapters: EventBridge Scheduler (on
moto) and the in-memory one the embedded runtime fires itself (``podium dev``).

The contract: ``put`` creates a schedule or updates it to the spec (again is harmless);
``get`` returns it as deployed (``same_as`` the spec: expression, time zone, message,
flexible window), or None; ``delete`` removes it, and a missing one is not an error.
Firing is not part of it: Scheduler fires deployed schedules, ``MemorySchedules.due``
the local ones (tests/integration/test_triggers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.schedules import MemorySchedules, SchedulerSchedules
from podium.adapters.timers import SchedulerTarget
from podium.core.ports import SCHEDULED_TIME, ScheduleSpec

TARGET = SchedulerTarget(
    "arn:aws:sqs:us-east-1:123456789012:events", "arn:aws:iam::123456789012:role/scheduler"
)


@pytest.fixture(params=["scheduler", "memory"])
def schedules(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemorySchedules()
        return
    with mock_aws():
        client = boto3.client("scheduler", region_name="us-east-1")
        client.create_schedule_group(Name="podium")
        yield SchedulerSchedules(client, group="podium", target=TARGET)


def spec(name: str = "etl-nightly", **changes: Any) -> ScheduleSpec:
    fields: dict[str, Any] = {
        "name": name,
        "expression": "cron(0 6 * * ? *)",
        "timezone": "Europe/Berlin",
        "message": {"t": "fire", "wf": "etl", "tr": "nightly", "at": SCHEDULED_TIME},
        "flexible_minutes": 10,
        "cron": "0 6 * * *",
    }
    return ScheduleSpec(**{**fields, **changes})


def test_put_then_get_gives_it_back_as_deployed(schedules: Any) -> None:
    schedules.put(spec())
    got = schedules.get("etl-nightly")
    assert got is not None and got.same_as(spec())
    assert schedules.get("never-made") is None


def test_put_again_updates_it(schedules: Any) -> None:
    schedules.put(spec())
    schedules.put(spec())  # the same again: harmless
    changed = spec(expression="rate(15 minutes)", timezone="UTC", flexible_minutes=0, cron=None)
    schedules.put(changed)
    got = schedules.get("etl-nightly")
    assert got is not None and got.same_as(changed) and not got.same_as(spec())


def test_delete_removes_it_and_a_missing_one_is_no_error(schedules: Any) -> None:
    schedules.put(spec())
    schedules.put(spec("etl-often", expression="rate(15 minutes)"))
    schedules.delete("etl-nightly")
    schedules.delete("etl-nightly")
    schedules.delete("never-made")
    assert schedules.get("etl-nightly") is None
    assert schedules.get("etl-often") is not None
