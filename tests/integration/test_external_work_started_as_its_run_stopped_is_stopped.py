"""External work submitted by an attempt that a stop ended meanwhile is stopped.

A run stopped while its ecs_task step was starting (the worker between the ListTasks
look-up its start makes and its RunTask): the stop's StopTask found no task, RunTask
then started one, and the start's poll found the step ended and dropped it. The task
ran on in ECS, billed, with nobody to stop it (the same race held for Batch, Glue and
Step Functions: service/runtimes/external.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podium.core.engine.plans import plan_give_back
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.completions import on_poll
from podium.service.lifecycle import stop_run

from .test_ecs_task import ecs_runtime

CLUSTER = "ml"
WORKFLOW = {
    "name": "train_wf",
    "steps": [
        {
            "id": "train",
            "type": "ecs_task",
            "cluster": CLUSTER,
            "task_definition": "train",
            "launch_type": "FARGATE",
        }
    ],
}


class _HookBeforeRunTask:
    """moto's ECS, with a hook called once just before RunTask: the operator's stop
    arriving while the worker that claimed the attempt is between its ListTasks look-up
    and its RunTask."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.before_run_task: Callable[[], None] | None = None

    def run_task(self, **kwargs: Any) -> Any:
        hook, self.before_run_task = self.before_run_task, None
        if hook is not None:
            hook()
        return self._client.run_task(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with ecs_runtime(_HookBeforeRunTask) as runtime:
        yield runtime


def _started(rt: LocalRuntime) -> str:
    """Pushes and starts a run; its start's claim starts the task. Gives the run's id."""
    rt.push(WORKFLOW)
    run_id = rt.start_run("train_wf").run_id
    rt.pump(wait=False)
    return run_id


def _step_moved(rt: LocalRuntime, run_id: str, to: StepStatus, changes: dict[str, Any]) -> None:
    """Moves the RUNNING attempt 1 of ``train`` to ``to`` (no work is stopped)."""
    rt.store.transition_step(
        run_id, "train", expected=frozenset({StepStatus.RUNNING}), attempt=1, to=to, changes=changes
    )


def _poll(rt: LocalRuntime, run_id: str) -> None:
    on_poll(rt.services, messages.PollStep(run_id, "train", 1))


def _the_task(rt: LocalRuntime) -> dict[str, Any]:
    ecs: Any = rt.ecs  # type: ignore[attr-defined]
    arns = set(ecs.list_tasks(cluster=CLUSTER)["taskArns"])  # moto: every status
    assert len(arns) == 1, arns
    task: dict[str, Any] = ecs.describe_tasks(cluster=CLUSTER, tasks=sorted(arns))["tasks"][0]
    return task


def test_a_task_started_while_its_run_was_being_stopped_was_stopped_by_its_start(
    rt: LocalRuntime,
) -> None:
    """The start that submitted the task after the stop's StopTask had found none
    returned Poll, and the poll dropped the ended attempt: the run showed STOPPED
    while its task ran on. The start now reads its step once it has submitted, and
    stops the work of an attempt that ended meanwhile."""
    rt.push(WORKFLOW)
    run = rt.start_run("train_wf")
    ecs: Any = rt.ecs  # type: ignore[attr-defined]
    ecs.before_run_task = lambda: stop_run(rt.services, run.run_id, "stopped by the operator")
    rt.pump(wait=False)  # the claim starts the task; nothing later is delivered
    record = rt.store.get_step(run.run_id, "train")
    assert record is not None and record.status is StepStatus.STOPPED
    task = _the_task(rt)
    assert task["desiredStatus"] == "STOPPED", (
        f"the task of the stopped run still runs: desiredStatus {task['desiredStatus']}"
    )
    assert task.get("stoppedReason") == "stopped by the operator"


def test_a_poll_that_found_its_attempt_stopped_stopped_its_task(rt: LocalRuntime) -> None:
    """A poll that came for an attempt ended STOPPED (its stop's terminate lost: it came
    before the submit, or its worker died between the step's end and the StopTask) was
    dropped, leaving the task running. It now stops the attempt's work (idempotent)."""
    run_id = _started(rt)
    assert _the_task(rt)["desiredStatus"] == "RUNNING"
    # The stop's writes, without the terminate that would have followed them.
    now = rt.clock.now_ms()
    rt.store.transition_run(
        run_id,
        expected=frozenset({RunStatus.RUNNING}),
        to=RunStatus.STOPPED,
        changes={"ended_at": now, "reason": "stopped by the operator"},
    )
    _step_moved(
        rt,
        run_id,
        StepStatus.STOPPED,
        {"ended_at": now, "reason": "stopped by the operator", "lease_until": None},
    )
    _poll(rt, run_id)
    assert _the_task(rt)["desiredStatus"] == "STOPPED"


def test_a_late_poll_of_a_given_back_attempt_left_its_work_alone(rt: LocalRuntime) -> None:
    """A given-back attempt (READY at the number before it) goes on under the same key
    when it is claimed again: a poll of it that comes meanwhile stops nothing."""
    run_id = _started(rt)
    _step_moved(rt, run_id, StepStatus.READY, plan_give_back(1))
    _poll(rt, run_id)
    assert _the_task(rt)["desiredStatus"] == "RUNNING"


def test_a_poll_of_a_succeeded_attempt_asked_no_stop(rt: LocalRuntime) -> None:
    """A poll that comes after its attempt succeeded (its event came first) asks ECS
    for nothing: only an attempt ended other than SUCCEEDED may have left work."""
    run_id = _started(rt)
    _step_moved(
        rt, run_id, StepStatus.SUCCEEDED, {"ended_at": rt.clock.now_ms(), "lease_until": None}
    )
    ecs: Any = rt.ecs  # type: ignore[attr-defined]
    asked: list[str] = []
    ecs.stop_task = lambda **kw: asked.append(kw["task"])
    ecs.list_tasks = lambda **kw: asked.append("list") or {"taskArns": []}
    _poll(rt, run_id)
    assert asked == []
