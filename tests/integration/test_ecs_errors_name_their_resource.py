"""An ecs_task step whose cluster or task definition did not exist failed with ECS's own
message, which names nothing ("Cluster not found.", "Unable to describe task
definition."): the user could not tell which cluster or task definition was meant.
The call's label (adapters/jobs/ecs.py) now names what the step asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

from .test_ecs_task import ecs_runtime


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with ecs_runtime() as runtime:
        yield runtime


def run_one(rt: LocalRuntime, cluster: str, task_definition: str) -> Any:
    """Runs one FARGATE ecs_task step on ``cluster`` of ``task_definition``; gives its
    record once what was due is delivered."""
    step = {"type": "ecs_task", "cluster": cluster, "task_definition": task_definition}
    rt.push({"name": "wf", "steps": [{"id": "job", "launch_type": "FARGATE", **step}]})
    run = rt.start_run("wf")
    rt.pump(wait=False)
    record = rt.store.get_step(run.run_id, "job")
    assert record is not None
    return record


def test_an_ecs_task_on_a_cluster_that_does_not_exist_names_the_cluster(
    rt: LocalRuntime,
) -> None:
    """A typo in ``cluster`` failed the step with "ECS ListTasks:
    ClusterNotFoundException: Cluster not found.", naming no cluster."""
    record = run_one(rt, "ml-typo", "train")
    assert record.status is StepStatus.FAILED and record.error_type == "Podium.ConfigError"
    assert "ECS ListTasks (cluster 'ml-typo'): ClusterNotFoundException" in (record.error or ""), (
        record.error
    )


def test_an_ecs_task_definition_that_does_not_exist_is_named(rt: LocalRuntime) -> None:
    """A task definition that was not registered failed the step with "ECS RunTask:
    ClientException: Unable to describe task definition.", naming neither the task
    definition nor the cluster."""
    record = run_one(rt, "ml", "trian:7")
    assert record.status is StepStatus.FAILED and record.error_type == "Podium.ConfigError"
    assert "ECS RunTask (task definition 'trian:7', cluster 'ml')" in (record.error or ""), (
        record.error
    )
