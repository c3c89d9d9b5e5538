"""Helpers of the external step-type tests: moto's ECS tasks held RUNNING until a test
ends them, and ECS state-change events as EventBridge delivers them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends
from moto.moto_api import state_manager

REGION = "us-east-1"


@contextmanager
def held(model_name: str) -> Iterator[None]:
    """moto moves some resources on by itself (an ECS task to STOPPED on its first
    describe, a Glue job run to SUCCEEDED); here they stay running, as real ones do for a
    while, until the test moves them."""
    state_manager.set_transition(
        model_name=model_name, transition={"progression": "manual", "times": 10**9}
    )
    try:
        yield
    finally:
        state_manager.unset_transition(model_name)


def manual_ecs_tasks() -> contextlib.AbstractContextManager[None]:
    """Tasks stay RUNNING until StopTask or ``moto_ecs_task`` ends them."""
    return held("ecs::task")


def moto_ecs_task(cluster: str, arn: str, *, exit_code: int | None) -> None:
    """End a task in moto, as if its container exited with ``exit_code``."""
    task = ecs_backends[DEFAULT_ACCOUNT_ID][REGION].tasks[cluster][arn]
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = "Essential container in task exited"
    for container in task.containers:
        container.exitCode = exit_code
        container.last_status = "STOPPED"


def ecs_event(
    task: dict[str, Any],
    last_status: str,
    *,
    exit_code: int | None = 0,
    reason: str | None = None,
    stop_code: str = "EssentialContainerExited",
    stopped_reason: str = "Essential container in task exited",
) -> dict[str, Any]:
    """An "ECS Task State Change" event for ``task`` (a DescribeTasks entry)."""
    container: dict[str, Any] = {"name": "trainer", "lastStatus": last_status}
    detail: dict[str, Any] = {
        "taskArn": task.get("taskArn"),
        "startedBy": task.get("startedBy"),
        "lastStatus": last_status,
        "desiredStatus": "STOPPED" if last_status == "STOPPED" else "RUNNING",
        "containers": [container],
        "overrides": task.get("overrides", {}),
    }
    if last_status == "STOPPED":
        detail["stopCode"] = stop_code
        detail["stoppedReason"] = stopped_reason
        if exit_code is not None:
            container["exitCode"] = exit_code
        if reason is not None:
            container["reason"] = reason
    return {
        "version": "0",
        "id": "e-1",
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "account": DEFAULT_ACCOUNT_ID,
        "region": REGION,
        "time": "2026-12-01T00:00:00Z",
        "resources": [task.get("taskArn")],
        "detail": detail,
    }
