"""Step runtimes, timeouts, failure modes, structured errors and the executor's time
budget, on the real service code over the memory store with a manual clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium import NonRetryable
from podium.adapters.clock import ManualClock
from podium.adapters.timers import SchedulerTarget, SchedulerTimers, schedule_name
from podium.core.engine.status import RunStatus, StepStatus
from podium.handlers._sqs import run_batch
from podium.local.runtime import LocalRuntime
from podium.service.inbox import handle_event, handle_work
from podium.service.sweep import sweep

HERE = "tests.unit.test_step_lifecycle"
SEEN: list[str] = []


def bad_data(event: dict[str, Any]) -> None:
    raise NonRetryable("row 7 has no id")


def value_error(event: dict[str, Any]) -> None:
    raise ValueError("bad value")


def slow(event: dict[str, Any]) -> str:
    time.sleep(1.5)
    return "late"


def record(event: dict[str, Any]) -> str:
    SEEN.append(event["step"])
    return event["step"]


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def statuses(view: Any) -> dict[str, str]:
    return {s.step: s.status.value for s in view.steps}


def test_a_sleep_past_its_timeout_times_out_and_downstream_does_not_run(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "slow_sleep",
            "steps": [
                {"id": "wait", "type": "sleep", "seconds": 3600, "timeout": "10m"},
                {"id": "after", "type": "noop", "depends_on": ["wait"]},
            ],
        }
    )
    assert view.run.status is RunStatus.TIMED_OUT
    assert statuses(view) == {"wait": "TIMED_OUT", "after": "SKIPPED"}
    wait = view.steps[0] if view.steps[0].step == "wait" else view.steps[1]
    assert wait.error_type == "Podium.Timeout"
    assert wait.ended_at is not None and wait.started_at is not None
    assert wait.ended_at - wait.started_at == 600_000


def test_a_timeout_is_retried_only_when_a_retrier_names_it(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "retry_timeout",
            "steps": [
                {
                    "id": "wait",
                    "type": "sleep",
                    "seconds": 3600,
                    "timeout": 60,
                    "retry": [{"errors": ["Podium.Timeout"], "max_attempts": 2, "interval": 1}],
                }
            ],
        }
    )
    assert view.run.status is RunStatus.TIMED_OUT
    assert view.steps[0].attempt == 3


def test_a_lambda_over_its_timeout_times_out(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "slow_fn",
            "steps": [{"id": "f", "type": "lambda", "function": f"{HERE}:slow", "timeout": 1}],
        }
    )
    assert view.steps[0].status is StepStatus.TIMED_OUT
    assert view.run.status is RunStatus.TIMED_OUT


def test_run_timeout_stops_everything_as_timed_out(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "run_timeout",
            "timeout": "1h",
            "steps": [
                {"id": "long", "type": "sleep", "seconds": 7200},
                {"id": "after", "type": "noop", "depends_on": ["long"]},
            ],
        }
    )
    assert view.run.status is RunStatus.TIMED_OUT
    assert view.run.error is not None and "timeout of 3600 s" in view.run.error
    got = statuses(view)
    assert got["long"] == "TIMED_OUT" and got.get("after") in (None, "STOPPED")


def test_failed_beats_timed_out(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "priority",
            "steps": [
                {"id": "boom", "type": "fail"},
                {"id": "wait", "type": "sleep", "seconds": 600, "timeout": 60},
            ],
        }
    )
    assert statuses(view) == {"boom": "FAILED", "wait": "TIMED_OUT"}
    assert view.run.status is RunStatus.FAILED


def test_fail_immediately_stops_running_steps(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "fail_fast",
            "steps": [
                {"id": "long", "type": "sleep", "seconds": 600},
                {"id": "boom", "type": "fail", "failure_mode": "fail_immediately"},
                {"id": "after_long", "type": "noop", "depends_on": ["long"]},
            ],
        }
    )
    assert view.run.status is RunStatus.FAILED
    got = statuses(view)
    assert got["boom"] == "FAILED" and got["long"] == "STOPPED"
    assert "after_long" not in got or got["after_long"] != "SUCCEEDED"
    assert view.run.ended_at is not None and view.run.started_at is not None
    assert view.run.ended_at - view.run.started_at < 600_000  # it did not wait for "long"


def test_ignore_failure_counts_as_success_downstream(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "ignored",
            "steps": [
                {"id": "flaky", "type": "fail", "failure_mode": "ignore_failure"},
                {"id": "after", "type": "noop", "depends_on": ["flaky"]},
            ],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED
    assert statuses(view) == {"flaky": "FAILED_IGNORED", "after": "SUCCEEDED"}


def test_non_retryable_errors_skip_the_policy_and_keep_their_traceback(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "bad_data",
            "steps": [
                {"id": "load", "type": "lambda", "function": f"{HERE}:bad_data", "retries": 3}
            ],
        }
    )
    step = view.steps[0]
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error_type == "NonRetryable" and "row 7 has no id" in (step.error or "")
    failed = next(e for e in view.events if e.kind == "failed")
    detail = failed.detail["error_detail"]
    assert detail["type"] == "NonRetryable" and detail["retryable"] is False
    assert "bad_data" in detail["traceback"]


def test_retriers_match_the_users_exception_class(rt: LocalRuntime) -> None:
    view = rt.run(
        {
            "name": "by_class",
            "steps": [
                {
                    "id": "s",
                    "type": "lambda",
                    "function": f"{HERE}:value_error",
                    "retry": [{"errors": ["KeyError"], "max_attempts": 5}],
                }
            ],
        }
    )
    assert view.steps[0].attempt == 1 and view.steps[0].error_type == "ValueError"


def test_a_lost_timer_is_caught_by_the_sweeper_asking_the_runtime(rt: LocalRuntime) -> None:
    rt.push({"name": "lost_timer", "steps": [{"id": "nap", "type": "sleep", "seconds": 60}]})
    run = rt.start_run("lost_timer")
    rt.pump(max_deliveries=2)  # start, then the claim that schedules the timer
    lost = rt.event_queue.receive(10)  # the timer: received and deleted, never handled
    for m in lost:
        rt.event_queue.delete(m.receipt)
    assert rt.store.get_step(run.run_id, "nap").status is StepStatus.RUNNING  # type: ignore[union-attr]
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(60_000 + 61_000)  # past the wait and its grace
    sweep(rt.services, rt.store)
    rt.pump()
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def _sqs_event(batch: list[Any]) -> dict[str, Any]:
    """The SQS event Lambda hands the work function for these received messages."""
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:work",
                "awsRegion": "us-east-1",
            }
            for m in batch
        ]
    }


class _ShortContext:
    """A work function of 15 minutes whose first record took all but 10 s of them."""

    def __init__(self) -> None:
        self.asked = 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1  # the batch's start, then after its first record
        return 900_000 if self.asked == 1 else 10_000  # less than the margin


def test_a_worker_short_of_time_gives_its_claimed_successor_back(rt: LocalRuntime) -> None:
    SEEN.clear()
    rt.push(
        {
            "name": "chain",
            "steps": [
                {"id": "a", "type": "lambda", "function": f"{HERE}:record"},
                {"id": "b", "type": "lambda", "function": f"{HERE}:record", "depends_on": ["a"]},
            ],
        }
    )
    run = rt.start_run("chain")
    for m in rt.event_queue.receive(10):  # the start: a's work message is queued
        handle_event(rt.services, json.loads(m.body))
        rt.event_queue.delete(m.receipt)
    batch = rt.work_queue.receive(1)
    event = _sqs_event(batch)
    run_batch(event, _ShortContext(), rt.services, handle_work)
    for m in batch:
        rt.work_queue.delete(m.receipt)
    assert SEEN == ["a"]  # b was claimed in-process, then given back unstarted
    b = rt.store.get_step(run.run_id, "b")
    assert b is not None and b.status is StepStatus.READY and b.attempt == 0
    rt.pump()
    assert SEEN == ["a", "b"]
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_a_thirty_day_sleep_is_one_scheduler_call() -> None:
    with mock_aws():
        scheduler = boto3.client("scheduler", region_name="us-east-1")
        scheduler.create_schedule_group(Name="podium")
        sent: list[tuple[dict[str, Any], int]] = []

        class Q:
            def send(self, message: dict[str, Any], delay_seconds: int = 0) -> None:
                sent.append((message, delay_seconds))

            def send_many(self, messages: list[dict[str, Any]]) -> None:
                sent.extend((m, 0) for m in messages)

        clock = ManualClock()
        target = SchedulerTarget(
            "arn:aws:sqs:us-east-1:123456789012:events", "arn:aws:iam::123456789012:role/t"
        )
        timers = SchedulerTimers(
            Q(), Q(), clock, scheduler, group="podium", targets={"events": target, "work": target}
        )
        due = clock.now_ms() + 30 * 86_400_000
        body = {"t": "done", "run": "r", "step": "s", "attempt": 1, "e": {"kind": "timer"}}
        timers.schedule(body, due, queue="events", dedup="done/r/s/1/timer")
        timers.schedule(body, due, queue="events", dedup="done/r/s/1/timer")  # a replay
        timers.schedule(body, clock.now_ms() + 60_000, queue="events", dedup="short")
        schedules = scheduler.list_schedules(GroupName="podium")["Schedules"]
        assert [s["Name"] for s in schedules] == [schedule_name("done/r/s/1/timer", due)]
        got = scheduler.get_schedule(Name=schedules[0]["Name"], GroupName="podium")
        assert got["ScheduleExpression"] == "at(2026-01-31T00:00:00)"
        assert json.loads(got["Target"]["Input"])["nb"] == due
        assert sent == [(body, 60)]  # a short wait stays an SQS delay


def test_a_waiting_step_times_out_after_ten_days_by_default() -> None:
    from pydantic import ValidationError

    from podium.core.dsl.models import SleepStep

    with pytest.raises(ValidationError, match="set timeout: 30d"):
        SleepStep(id="s", type="sleep", seconds=30 * 86_400)
    assert SleepStep(id="s", type="sleep", seconds=30 * 86_400, timeout="30d").seconds


def test_a_lost_long_sleep_is_reclaimed_at_its_deadline_not_forever(rt: LocalRuntime) -> None:
    """The lease of a waiting attempt never outlives its (default) deadline."""
    from podium.service.advance import lease_until

    rt.push({"name": "nap10", "steps": [{"id": "a", "type": "sleep", "seconds": 9 * 86_400}]})
    run = rt.start_run("nap10")
    now = rt.clock.now_ms()
    assert lease_until(rt.services, run, "a", now) == now + 9 * 86_400_000 + 60_000
    rt.push({"name": "nap10b", "steps": [{"id": "a", "type": "sleep", "seconds": 10 * 86_400}]})
    run_b = rt.start_run("nap10b")
    assert lease_until(rt.services, run_b, "a", now) == now + 10 * 86_400_000


def test_stopping_a_long_sleep_deletes_its_schedules() -> None:
    """A stopped 2-hour sleep with a 5-hour timeout leaves no Scheduler schedule behind
    (neither its wake-up nor its deadline) to fire into a closed attempt later."""
    from podium.service.lifecycle import stop_run
    from podium.service.messages import EndedCheck, dedup_key

    with mock_aws(), LocalRuntime(store="memory", clock=ManualClock()) as rt:
        scheduler = boto3.client("scheduler", region_name="us-east-1")
        scheduler.create_schedule_group(Name="podium")
        target = SchedulerTarget(
            "arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:iam::123456789012:role/t"
        )
        rt.services.timers = SchedulerTimers(
            rt.services.work_queue,
            rt.services.event_queue,
            rt.services.clock,
            scheduler,
            group="podium",
            targets={"events": target, "work": target},
        )
        rt.push(
            {
                "name": "nap",
                "steps": [{"id": "z", "type": "sleep", "seconds": 7200, "timeout": 18000}],
            }
        )
        run = rt.start_run("nap")
        rt.pump()
        assert len(scheduler.list_schedules(GroupName="podium")["Schedules"]) == 2
        stop_run(rt.services, run.run_id, "stopped by a test")
        left = [s["Name"] for s in scheduler.list_schedules(GroupName="podium")["Schedules"]]
        # Only the run's own ended_check (a lease after it ended) is left, by design.
        [name] = left
        got = scheduler.get_schedule(Name=name, GroupName="podium")
        due = json.loads(got["Target"]["Input"])["nb"]
        assert name == schedule_name(dedup_key(EndedCheck(run.run_id)), due)
        assert rt.store.get_step(run.run_id, "z").status is StepStatus.STOPPED


def test_a_sleep_longer_than_any_timeout_is_refused_at_push() -> None:
    """A sleep of up to 365 days was accepted, but a step timeout is at most 120 days:
    a longer sleep validated and could only ever time out."""
    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import validate_definition

    def sleep(days: int) -> dict[str, object]:
        step = {"id": "nap", "type": "sleep", "seconds": days * 86_400, "timeout": "120d"}
        return {"name": "napper", "steps": [step]}

    validate_definition(sleep(120))
    with pytest.raises(DefinitionError) as refused:
        validate_definition(sleep(200))
    issue = refused.value.issues[0]
    assert issue.path == "steps[0].seconds" and "at most 10,368,000 s (120 days" in issue.message


def test_a_worker_short_of_time_gives_the_rest_of_its_batch_back_unclaimed(
    rt: LocalRuntime,
) -> None:
    """With work_batch_size > 1 a worker runs its records one after another, and checked
    its remaining time only before an in-process successor: a record reached with
    seconds left was claimed and started anyway, then cut off by the invocation's end
    (retried as a lost worker: its work done twice). It is given back unclaimed now (a
    batch item failure); the first record of a batch always runs."""
    SEEN.clear()
    step = {"id": "a", "type": "lambda", "function": f"{HERE}:record"}
    rt.push({"name": "one", "run_strategy": {"parallel": 5}, "steps": [step]})
    runs = [rt.start_run("one").run_id for _ in range(2)]
    while starts := rt.event_queue.receive(10):  # the starts: two work messages queued
        for m in starts:
            handle_event(rt.services, json.loads(m.body))
            rt.event_queue.delete(m.receipt)
    batch = rt.work_queue.receive(10)
    batch += rt.work_queue.receive(10)
    assert len(batch) == 2, batch
    event = _sqs_event(batch)
    response = run_batch(event, _ShortContext(), rt.services, handle_work)
    assert SEEN == ["a"]  # the first record ran
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [batch[1].message_id]
    statuses = sorted(rt.store.get_step(r, "a").status.value for r in runs)  # type: ignore[union-attr]
    assert statuses == ["READY", "SUCCEEDED"]  # the second was never claimed
