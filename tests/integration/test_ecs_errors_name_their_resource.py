"""An ecs_task step whose cluster or task definition did not exist failed with ECS's own
message, which names nothing ("Cluster not found.", "Unable to describe task
definition."): the user could not tell which cluster or task definition was meant.
The call's label (adapters/jobs/ecs.py) now names what the step asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.ecs import EcsTasks
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

from .external_support import manual_ecs_tasks

REGION = "us-east-1"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime, manual_ecs_tasks():
        ecs = boto3.client("ecs", region_name=REGION)
        ecs.create_cluster(clusterName="ml")
        ecs.register_task_definition(
            family="train",
            containerDefinitions=[{"name": "trainer", "image": "trainer:latest", "memory": 512}],
        )
        runtime.services.jobs = {"ecs_task": EcsTasks(ecs)}
        yield runtime


def run_one(rt: LocalRuntime, step: dict[str, Any]) -> Any:
    rt.push({"name": "wf", "steps": [{"id": "job", **step}]})
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
    record = run_one(
        rt,
        {
            "type": "ecs_task",
            "cluster": "ml-typo",
            "task_definition": "train",
            "launch_type": "FARGATE",
        },
    )
    assert record.status is StepStatus.FAILED and record.error_type == "Podium.ConfigError"
    assert "ECS ListTasks (cluster 'ml-typo'): ClusterNotFoundException" in (record.error or ""), (
        record.error
    )


def test_an_ecs_task_definition_that_does_not_exist_is_named(rt: LocalRuntime) -> None:
    """A task definition that was not registered failed the step with "ECS RunTask:
    ClientException: Unable to describe task definition.", naming neither the task
    definition nor the cluster."""
    record = run_one(
        rt,
        {
            "type": "ecs_task",
            "cluster": "ml",
            "task_definition": "trian:7",
            "launch_type": "FARGATE",
        },
    )
    assert record.status is StepStatus.FAILED and record.error_type == "Podium.ConfigError"
    assert "ECS RunTask (task definition 'trian:7', cluster 'ml')" in (record.error or ""), (
        record.error
    )
