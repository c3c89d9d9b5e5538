"""ecs_task_definition_arns and batch_job_definition_arns (infra/podium_cdk/props.py):
ECS and Batch authorize RunTask and SubmitJob on the definition's ARN with its revision
(``family:3``), so a grant on ``.../family`` never matches."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ecs as ecs

from podium_cdk import PodiumProps

_CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/etl"
_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/features"
_TASK = "arn:aws:ecs:eu-west-1:123456789012:task-definition/etl-job"
_JOB = "arn:aws:batch:eu-west-1:123456789012:job-definition/features"


def test_a_task_definition_without_revision_is_refused_naming_the_fix() -> None:
    """ecs_task_definition_arns=[".../task-definition/etl-job"] was taken and granted
    as written: every ecs_task step then failed with AccessDenied on RunTask."""
    with pytest.raises(ValueError, match=r"ecs_task_definition_arns: .*etl-job:\*"):
        PodiumProps(ecs_cluster_arns=[_CLUSTER], ecs_task_definition_arns=[_TASK])


def test_a_job_definition_without_revision_is_refused_naming_the_fix() -> None:
    """batch_job_definition_arns=[".../job-definition/features"] was taken and granted
    as written: every batch_job step then failed with AccessDenied on SubmitJob."""
    with pytest.raises(ValueError, match=r"batch_job_definition_arns: .*features:\*"):
        PodiumProps(batch_job_queue_arns=[_QUEUE], batch_job_definition_arns=[_JOB])


@pytest.mark.parametrize("suffix", [":*", ":3", "*"])
def test_definitions_with_a_revision_or_wildcard_are_taken(suffix: str) -> None:
    props = PodiumProps(
        ecs_cluster_arns=[_CLUSTER],
        ecs_task_definition_arns=[_TASK + suffix],
        batch_job_queue_arns=[_QUEUE],
        batch_job_definition_arns=[_JOB + suffix],
    )
    assert props.ecs_task_definition_arns == [_TASK + suffix]


def test_a_task_definitions_own_arn_token_is_taken() -> None:
    """CloudFormation's ARN of a task definition carries its revision."""
    stack = Stack(App(), "S")
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container("c", image=ecs.ContainerImage.from_registry("busybox"))
    props = PodiumProps(
        ecs_cluster_arns=[_CLUSTER], ecs_task_definition_arns=[task.task_definition_arn]
    )
    assert props.ecs_task_definition_arns == [task.task_definition_arn]
