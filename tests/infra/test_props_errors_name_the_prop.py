"""Props that were refused far from the prop that holds them, or not at all.

- ``ecs_cluster_arns`` / ``sfn_state_machine_arns`` given as plain names failed inside
  CDK's ``Arn.split`` (``ArnsMustStartWithArn``, a jsii traceback naming no prop); the
  other ARN props' names were granted as written and refused by IAM at deploy.
- a negative ``reserved_concurrency`` (of api, sweep, events) and a float ``memory_mb``
  reached CDK or CloudFormation unchecked.
- ``glue_job_names`` given as an ARN was granted as ``job/arn:aws:glue:...``, which
  matches no job: every glue_job step failed with AccessDenied.
- ``ecs_pass_role_arns`` without ``ecs_cluster_arns`` was silently dropped (it is
  granted with the ECS grants), so tasks needing the role failed to start.

Each is now a ValueError at synthesis naming the prop and what to write. No synthesis:
building the props is enough."""

from __future__ import annotations

from typing import Any

import pytest

from podium_cdk import PodiumProps

CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/etl"
TASK = "arn:aws:ecs:eu-west-1:123456789012:task-definition/etl:*"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"ecs_cluster_arns": ["etl"]}, r"ecs_cluster_arns: 'etl' is not an ARN.*cluster/"),
        (
            {"sfn_state_machine_arns": ["scoring"]},
            r"sfn_state_machine_arns: 'scoring' is not an ARN.*stateMachine:",
        ),
        (
            {"ecs_cluster_arns": [CLUSTER], "ecs_task_definition_arns": ["etl:3"]},
            "ecs_task_definition_arns: 'etl:3' is not an ARN",
        ),
        (
            {"batch_job_queue_arns": ["features"], "batch_job_definition_arns": ["*"]},
            "batch_job_queue_arns: 'features' is not an ARN",
        ),
        (
            {"ecs_cluster_arns": [CLUSTER], "ecs_pass_role_arns": ["etl-task"]},
            "ecs_pass_role_arns: 'etl-task' is not an ARN.*role/",
        ),
        ({"reserved_concurrency": {"api": -1}}, r"reserved_concurrency\['api'\]: -1"),
        ({"reserved_concurrency": {"events": 2.5}}, r"reserved_concurrency\['events'\]: 2.5"),
        ({"memory_mb": {"work": 1024.5}}, r"memory_mb\['work'\]: 1024.5.*whole number"),
        (
            {"glue_job_names": ["arn:aws:glue:eu-west-1:123456789012:job/nightly-etl"]},
            r"glue_job_names: .* is an ARN; Glue job names are names.*'nightly-etl'",
        ),
        (
            {"ecs_pass_role_arns": ["arn:aws:iam::123456789012:role/etl-task"]},
            "ecs_pass_role_arns needs ecs_cluster_arns",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_its_prop(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        PodiumProps(**options)


def test_values_that_work_are_still_taken() -> None:
    PodiumProps(
        ecs_cluster_arns=[CLUSTER],
        ecs_task_definition_arns=[TASK],
        ecs_pass_role_arns=["arn:aws:iam::123456789012:role/etl-task"],
        batch_job_queue_arns=["*"],
        batch_job_definition_arns=["arn:aws:batch:eu-west-1:123456789012:job-definition/f:*"],
        glue_job_names=["nightly-etl", "etl-*"],
        reserved_concurrency={"api": 0, "sweep": 3},
        memory_mb={"work": 1024},
    )
