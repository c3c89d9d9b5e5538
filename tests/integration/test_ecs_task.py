"""ecs_task on moto's ECS: RunTask with the rendered overrides, completion from ECS task
state-change events injected through the events handler, DescribeTasks polling as the
safety net, StopTask on stop and timeout."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.ecs import EcsTasks
from podium.core.engine.status import RunStatus, StepStatus
from podium.handlers import events as events_handler
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

from .external_support import ecs_event, manual_ecs_tasks, moto_ecs_task

CLUSTER = "ml"


@contextmanager
def ecs_runtime(wrap: Callable[[Any], Any] = lambda ecs: ecs) -> Iterator[LocalRuntime]:
    """A memory runtime on moto's ECS with the cluster ``ml`` and the task definition
    ``train`` (container ``trainer``); its ``ecs_task`` steps, and ``runtime.ecs``, use
    the ECS client as ``wrap`` gives it."""
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime, manual_ecs_tasks():
        ecs = boto3.client("ecs", region_name="us-east-1")
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(
            family="train",
            networkMode="bridge",
            containerDefinitions=[
                {
                    "name": "trainer",
                    "image": "trainer:latest",
                    "memory": 512,
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": "/ml/train",
                            "awslogs-region": "us-east-1",
                            "awslogs-stream-prefix": "ecs",
                        },
                    },
                }
            ],
        )
        client = wrap(ecs)
        runtime.services.jobs = {"ecs_task": EcsTasks(client)}
        runtime.ecs = client  # type: ignore[attr-defined]
        yield runtime


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with ecs_runtime() as runtime:
        yield runtime


def workflow(name: str = "train_wf", **step: Any) -> dict[str, Any]:
    return {
        "name": name,
        "params": {"epochs": {"type": "int", "default": 3}},
        "steps": [
            {
                "id": "train",
                "type": "ecs_task",
                "cluster": CLUSTER,
                "task_definition": "train",
                "container": "trainer",
                "launch_type": "FARGATE",
                "command": ["python", "train.py", "--epochs", "${params.epochs}"],
                "environment": {"RUN": "${run.id}"},
                **step,
            },
            {"id": "after", "type": "noop", "depends_on": ["train"]},
        ],
    }


def started(rt: LocalRuntime, wf: dict[str, Any]) -> tuple[str, str]:
    """Push and start a run; deliver what is due now. Returns (run id, task ARN)."""
    rt.push(wf)
    run = rt.start_run(wf["name"])
    rt.pump(wait=False)
    arns = rt.ecs.list_tasks(cluster=CLUSTER)["taskArns"]  # type: ignore[attr-defined]
    assert len(arns) == 1
    return run.run_id, arns[0]


def deliver(rt: LocalRuntime, event: dict[str, Any]) -> dict[str, Any]:
    got = events_handler.handler(event, None)
    rt.pump(wait=False)
    return got


def step_of(rt: LocalRuntime, run_id: str, step: str = "train") -> Any:
    record = rt.store.get_step(run_id, step)
    assert record is not None
    return record


def test_the_task_runs_with_rendered_overrides_and_succeeds_from_its_event(
    rt: LocalRuntime,
) -> None:
    run_id, arn = started(rt, workflow())
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    assert task["startedBy"] == f"{run_id}/train/1"
    override = task["overrides"]["containerOverrides"][0]
    assert override["name"] == "trainer"
    assert override["command"] == ["python", "train.py", "--epochs", "3"]
    assert override["environment"] == [{"name": "RUN", "value": run_id}]
    assert step_of(rt, run_id).status is StepStatus.RUNNING

    # A state change on the way (RUNNING) changes nothing.
    assert deliver(rt, ecs_event(task, "RUNNING"))["matched"] == 1
    assert step_of(rt, run_id).status is StepStatus.RUNNING

    deliver(rt, ecs_event(task, "STOPPED", exit_code=0))
    record = step_of(rt, run_id)
    assert record.status is StepStatus.SUCCEEDED
    assert record.output["task_arn"] == arn and record.output["exit_code"] == 0
    assert record.output["logs"].startswith("https://us-east-1.console.aws.amazon.com/cloudwatch")
    assert "ecs$252Ftrainer$252F" in record.output["logs"]
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_non_zero_exit_code_fails_the_step_as_a_user_error(rt: LocalRuntime) -> None:
    run_id, arn = started(rt, workflow())
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    deliver(rt, ecs_event(task, "STOPPED", exit_code=3, reason="OutOfMemoryError"))
    record = step_of(rt, run_id)
    assert record.status is StepStatus.FAILED
    assert record.error_type == "Podium.UserError"
    assert "container 'trainer' exited with code 3: OutOfMemoryError" in (record.error or "")
    assert rt.store.get_run(run_id).status is RunStatus.FAILED


def test_a_task_that_never_ran_its_code_is_a_platform_error_and_is_retried(
    rt: LocalRuntime,
) -> None:
    run_id, arn = started(rt, workflow())
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    deliver(
        rt,
        ecs_event(
            task,
            "STOPPED",
            exit_code=None,
            stop_code="TaskFailedToStart",
            stopped_reason="ResourceInitializationError: no capacity",
        ),
    )
    record = step_of(rt, run_id)
    # Retried from the platform budget (5 s with full jitter: a draw under half a second
    # rounds to no wait, so the second attempt may already have started).
    assert record.retry_counts == {"platform": 1}
    assert (record.status, record.attempt) in {
        (StepStatus.RETRY_WAIT, 1),
        (StepStatus.RUNNING, 2),
    }
    if record.status is StepStatus.RETRY_WAIT:
        assert record.error_type == "Podium.PlatformError"


def test_a_lost_event_is_caught_by_polling(rt: LocalRuntime) -> None:
    run_id, arn = started(rt, workflow())
    moto_ecs_task(CLUSTER, arn, exit_code=0)  # the task ended; its event never came
    rt.pump()  # time moves on to the poll
    record = step_of(rt, run_id)
    assert record.status is StepStatus.SUCCEEDED
    assert record.output["exit_code"] == 0
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_duplicated_event_ends_the_attempt_once(rt: LocalRuntime) -> None:
    run_id, arn = started(rt, workflow(retries=2, retry_delay_seconds=60))
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    failed = ecs_event(task, "STOPPED", exit_code=1)
    events_handler.handler(failed, None)
    events_handler.handler(failed, None)  # EventBridge delivers at least once
    rt.pump(wait=False)
    record = step_of(rt, run_id)
    assert record.status is StepStatus.RETRY_WAIT and record.attempt == 1
    rt.clock.advance(61_000)  # type: ignore[union-attr]
    rt.pump(wait=False)
    record = step_of(rt, run_id)
    assert record.status is StepStatus.RUNNING and record.attempt == 2
    arns = rt.ecs.list_tasks(cluster=CLUSTER)["taskArns"]  # type: ignore[attr-defined]
    assert len(arns) == 2  # one task per attempt, not one per event
    events_handler.handler(failed, None)  # a late copy for attempt 1: dropped
    rt.pump(wait=False)
    assert step_of(rt, run_id).status is StepStatus.RUNNING


def test_stopping_the_run_stops_the_task(rt: LocalRuntime) -> None:
    run_id, arn = started(rt, workflow())
    stop_run(rt.services, run_id, "stopped by a test")
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    assert task["desiredStatus"] == "STOPPED"
    assert task["stoppedReason"] == "stopped by a test"
    assert step_of(rt, run_id).status is StepStatus.STOPPED
    assert rt.store.get_run(run_id).status is RunStatus.STOPPED


def test_a_timeout_stops_the_task_and_times_the_step_out(rt: LocalRuntime) -> None:
    run_id, arn = started(rt, workflow(timeout="5m"))
    rt.pump()  # polls find the task running, until the deadline
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    assert task["desiredStatus"] == "STOPPED"
    record = step_of(rt, run_id)
    assert record.status is StepStatus.TIMED_OUT and record.error_type == "Podium.Timeout"
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT


def test_a_start_lost_with_its_worker_is_retried_as_a_new_attempt(rt: LocalRuntime) -> None:
    from podium.service.completions import resume_waiting

    rt.push(workflow())
    run = rt.start_run("train_wf")
    jobs = rt.services.jobs
    rt.services.jobs = {}  # without a backend the step fails: a config error naming the fix
    rt.pump(wait=False)
    rt.services.jobs = jobs
    record = step_of(rt, run.run_id)
    assert record.status is StepStatus.FAILED and "podium.toml" in (record.error or "")
    assert rt.ecs.list_tasks(cluster=CLUSTER)["taskArns"] == []  # type: ignore[attr-defined]

    # A worker claimed attempt 1 and died before RunTask: its claim message comes back.
    rt.push(workflow("train_wf2"))
    run2 = rt.start_run("train_wf2")
    for m in rt.event_queue.receive(10):  # the start: the step is made ready
        from podium.service.inbox import handle_event

        handle_event(rt.services, json.loads(m.body))
        rt.event_queue.delete(m.receipt)
    from podium.service import messages
    from podium.service.execute import execute

    started = rt.services.jobs
    rt.services.jobs = {"ecs_task": _Dying()}
    with pytest.raises(RuntimeError):
        for m in rt.work_queue.receive(10):
            execute(rt.services, messages.decode(json.loads(m.body))[0])  # type: ignore[arg-type]
    rt.services.jobs = started
    record2 = step_of(rt, run2.run_id)
    assert record2.status is StepStatus.RUNNING and record2.attempt == 1
    # The claim message comes back past the dead worker's lease (the queue's visibility
    # timeout); sooner, that worker could still be starting the task, so nothing fails.
    resume_waiting(rt.services, rt.store.get_run(run2.run_id), record2)
    assert step_of(rt, run2.run_id).status is StepStatus.RUNNING
    rt.clock.advance(rt.services.lease_ms)  # type: ignore[union-attr]
    resume_waiting(rt.services, rt.store.get_run(run2.run_id), record2)  # the redelivery
    record2 = step_of(rt, run2.run_id)
    assert record2.status is StepStatus.RETRY_WAIT
    assert record2.error_type == "Podium.PlatformError" and "was not found" in (record2.error or "")
    rt.pump(wait=False)
    rt.clock.advance(3_600_000)  # type: ignore[union-attr]
    rt.pump(wait=False)
    record2 = step_of(rt, run2.run_id)
    assert record2.status is StepStatus.RUNNING and record2.attempt == 2
    tasks = rt.ecs.list_tasks(cluster=CLUSTER)["taskArns"]  # type: ignore[attr-defined]
    assert len(tasks) == 1  # attempt 2's, and only it


class _Dying:
    """A backend whose worker dies before it starts anything."""

    def start(self, request: Any) -> Any:
        raise RuntimeError("the worker died")

    def find(self, request: Any) -> Any:
        return None

    def complete(self, request: Any, outcome: Any) -> Any:
        return outcome

    def stop(self, request: Any, reason: str) -> None:
        return None


def test_run_task_refused_fails_without_retry(rt: LocalRuntime) -> None:
    rt.push(workflow(task_definition="missing", retries=3))
    run = rt.start_run("train_wf")
    rt.pump(wait=False)
    record = step_of(rt, run.run_id)
    assert record.status is StepStatus.FAILED and record.attempt == 1
    assert record.error_type == "Podium.ConfigError"


def test_events_of_tasks_podium_did_not_start_go_on_to_the_triggers(rt: LocalRuntime) -> None:
    event = ecs_event({"taskArn": "arn:x", "startedBy": "someone-else"}, "STOPPED", exit_code=0)
    assert events_handler.handler(event, None)["matched"] == 0  # no trigger takes it
    assert rt.event_queue.receive(10) == []
    # A trigger on ECS task ends starts a run from another's task, and from ours too.
    rt.push(
        {
            "name": "on_task_end",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [{"event": {"pattern": {"source": ["aws.ecs"]}}}],
        }
    )
    assert events_handler.handler(event, None)["matched"] == 1
    run_id, arn = started(rt, workflow())
    task = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]  # type: ignore[attr-defined]
    ours = {**ecs_event(task, "STOPPED", exit_code=0), "id": "e-2"}  # triggers dedupe by id
    assert events_handler.handler(ours, None)["matched"] == 1
    rt.pump(wait=False)
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert len(rt.store.list_runs("on_task_end")) == 2


def test_launch_type_and_capacity_provider_are_one_or_the_other() -> None:
    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import validate_definition

    bad = workflow(capacity_provider="FARGATE_SPOT")
    with pytest.raises(DefinitionError, match="either launch_type or capacity_provider"):
        validate_definition(bad)
    ok = workflow(capacity_provider=[{"provider": "FARGATE_SPOT", "weight": 3}])
    del ok["steps"][0]["launch_type"]
    assert validate_definition(ok).steps[0].type == "ecs_task"


class _StopRefused(EcsTasks):
    def stop(self, request: Any, reason: str) -> None:
        raise RuntimeError("ECS is down")


def test_a_refused_stop_is_counted_and_the_run_still_stops(rt: LocalRuntime) -> None:
    run_id, _ = started(rt, workflow())
    rt.services.jobs = {"ecs_task": _StopRefused(rt.ecs)}  # type: ignore[attr-defined]
    counted: list[str] = []
    rt.services.metrics.count = lambda name, value=1: counted.append(name)  # type: ignore[method-assign]
    stop_run(rt.services, run_id, "stopped by a test")
    assert rt.store.get_run(run_id).status is RunStatus.STOPPED
    assert step_of(rt, run_id).status is StepStatus.STOPPED
    assert "ExternalStopFailed" in counted


def test_tasks_inside_a_foreach_are_routed_back_to_their_iterations(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "sweep",
            "steps": [
                {
                    "id": "grid",
                    "type": "foreach",
                    "over": {"lr": [0.1, 0.01]},
                    "steps": [
                        {
                            "id": "train",
                            "type": "ecs_task",
                            "cluster": CLUSTER,
                            "task_definition": "train",
                            "container": "trainer",
                            "launch_type": "FARGATE",
                            "command": ["python", "train.py", "--lr", "${iteration.lr}"],
                        }
                    ],
                }
            ],
        }
    )
    run = rt.start_run("sweep")
    rt.pump(wait=False)
    arns = rt.ecs.list_tasks(cluster=CLUSTER)["taskArns"]  # type: ignore[attr-defined]
    tasks = rt.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]  # type: ignore[attr-defined]
    assert len(tasks) == 2
    commands = sorted(t["overrides"]["containerOverrides"][0]["command"][-1] for t in tasks)
    assert commands == ["0.01", "0.1"]
    for task in tasks:  # child runs' keys: <run>.grid.<index>/train/1, dots as slashes
        assert task["startedBy"].startswith(f"{run.run_id}/grid/")
        deliver(rt, ecs_event(task, "STOPPED", exit_code=0))
    rt.pump()
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
