"""A retried wait got no deadline timer on AWS. EventBridge Scheduler's schedule for a
long timer was named from the timer's dedup key alone, and a wait's deadline check
(``SignalCheck``) is keyed by its run and step: a retry of a wait that had timed out
while its first deadline's schedule was still there (the sweeper timed it out before
the schedule fired, or the schedule had fired and not yet deleted itself) asked for a
schedule of the same name, got ConflictException, and created nothing. The retried
wait's deadline was then the sweeper's alone (up to half an hour late). A poll of an
attempt looked at again later (the same key, a new due time) lost its schedule alike.
Now a schedule is named by the key and the due time: one per timer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.clock import ManualClock
from podium.adapters.timers import SchedulerTarget, SchedulerTimers
from podium.core.engine.actions import StepAction
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, step_action
from podium.service.sweep import sweep

EVENTS = "arn:aws:sqs:us-east-1:123456789012:events"
ROLE = "arn:aws:iam::123456789012:role/scheduler"
HOUR = 3_600_000

WAITS = {
    "name": "waits",
    "steps": [
        {
            "id": "report",
            "type": "noop",
            "timeout": "1h",  # also bounds the wait: a Scheduler schedule, not an SQS delay
            "wait_for": [{"signal": "sales_ready"}],
        },
        {"id": "other", "type": "sleep", "seconds": 6 * 3600, "timeout": "1d"},  # runs on
    ],
}


class Moto:
    def __init__(self) -> None:
        self.scheduler: Any = boto3.client("scheduler", region_name="us-east-1")
        self.scheduler.create_schedule_group(Name="podium")

    def timers(self, rt: LocalRuntime) -> SchedulerTimers:
        target = SchedulerTarget(EVENTS, ROLE)
        ctx = rt.services
        return SchedulerTimers(
            ctx.work_queue,
            ctx.event_queue,
            ctx.clock,
            self.scheduler,
            group="podium",
            targets={"events": target, "work": target},
        )

    def due_times(self, kind: str) -> list[int]:
        """The due times (``nb``) of the schedules holding messages of ``kind``."""
        out = []
        for item in self.scheduler.list_schedules(GroupName="podium")["Schedules"]:
            got = self.scheduler.get_schedule(Name=item["Name"], GroupName="podium")
            body = _json(got["Target"]["Input"])
            if body.get("t") == kind:
                out.append(int(body["nb"]))
        return sorted(out)


def _json(text: str) -> dict[str, Any]:
    import json

    data = json.loads(text)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def world() -> Iterator[tuple[LocalRuntime, Moto]]:
    with mock_aws():
        moto = Moto()
        with LocalRuntime(store="memory", clock=ManualClock()) as rt:
            rt.services.timers = moto.timers(rt)
            yield rt, moto


def test_a_retried_wait_gets_a_deadline_schedule_of_its_own(
    world: tuple[LocalRuntime, Moto],
) -> None:
    rt, moto = world
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    rt.push(WAITS)
    run_id = rt.start_run("waits").run_id
    rt.pump(advance_time=False)
    first = rt.services.store.get_step(run_id, "report")
    assert first is not None and first.waiting_since is not None
    assert moto.due_times("signals") == [first.waiting_since + HOUR]
    # Past the deadline the sweeper looks first: the schedule (on moto it never fires)
    # is still there, as it is on AWS until it fired and deleted itself.
    clock.advance(HOUR + 1000)
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    timed_out = rt.services.store.get_step(run_id, "report")
    assert timed_out is not None and timed_out.status is StepStatus.TIMED_OUT
    step_action(rt.services, run_id, "report", StepAction.RETRY, Actor("ops"))
    rt.pump(advance_time=False)
    again = rt.services.store.get_step(run_id, "report")
    assert again is not None and again.status is StepStatus.WAITING_FOR_SIGNALS
    assert again.waiting_since == clock.now_ms()
    assert again.waiting_since + HOUR in moto.due_times("signals")


def test_the_same_timer_twice_is_one_schedule_and_a_cancel_deletes_it(
    world: tuple[LocalRuntime, Moto],
) -> None:
    """Guard: a replayed decision (the same message at the same due time) still makes one
    schedule, and cancelling it (with its due time) deletes it."""
    rt, moto = world
    timers = rt.services.timers
    assert timers is not None
    msg = messages.SignalCheck("r", "s")
    due = rt.services.clock.now_ms() + 2 * HOUR
    for _ in range(2):
        rt.services.at(msg, due, queue="events")
    assert moto.due_times("signals") == [due]
    rt.services.at(msg, due + HOUR, queue="events")  # a later wait of the same step
    assert moto.due_times("signals") == [due, due + HOUR]
    rt.services.cancel_at(msg, due, set_ms=None)
    assert moto.due_times("signals") == [due + HOUR]


def test_a_schedule_fires_at_its_due_second(world: tuple[LocalRuntime, Moto]) -> None:
    """Guard: the schedule's time is the due time (rounded up to the second), UTC."""
    rt, moto = world
    due = rt.services.clock.now_ms() + 2 * HOUR + 500
    rt.services.at(messages.SignalCheck("r", "s"), due, queue="events")
    (item,) = moto.scheduler.list_schedules(GroupName="podium")["Schedules"]
    got = moto.scheduler.get_schedule(Name=item["Name"], GroupName="podium")
    at = datetime.fromtimestamp(-(-due // 1000), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert got["ScheduleExpression"] == f"at({at})"
