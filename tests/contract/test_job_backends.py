"""Contract suite for the JobBackend port (the external step types), run on every
adapter: ECS, Batch, Glue and Step Functions on moto, and the local stand-in.

The contract: work never started is not found (None); a start names the work by the
attempt key, so ``find`` returns the same work and a second start of the same attempt
is that work again, never a second one; another attempt is other work; stopping is
idempotent, and stopping work that does not exist does nothing. And for the Secrets
port: a secret is read by name, a missing one is SecretNotFound."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.config import default_user_config
from moto.moto_api import state_manager

from podium.adapters.http_transport import MappedSecrets, SecretsManagerSecrets
from podium.adapters.jobs.batch import BatchJobs
from podium.adapters.jobs.ecs import EcsTasks
from podium.adapters.jobs.glue import GlueJobs
from podium.adapters.jobs.local import LocalJobs
from podium.adapters.jobs.sfn import SfnExecutions
from podium.core.dsl.models import BatchJobStep, EcsTaskStep, GlueJobStep, SfnExecutionStep
from podium.core.ports import JobBackend, JobRequest, SecretNotFound

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-contract"


@dataclass
class Case:
    kind: str
    backend: JobBackend
    spec: Any
    rendered: dict[str, Any]
    count: Callable[[], int]  # how much work the service holds


def _ecs() -> Case:
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="t", containerDefinitions=[{"name": "main", "image": "x", "memory": 128}]
    )
    spec = EcsTaskStep(
        id="s", type="ecs_task", cluster="c", task_definition="t", launch_type="FARGATE"
    )
    return Case(
        "ecs_task", EcsTasks(ecs), spec, {}, lambda: len(ecs.list_tasks(cluster="c")["taskArns"])
    )


def _batch() -> Case:
    boto3.client("iam", region_name=REGION).create_role(
        RoleName="podium-contract", AssumeRolePolicyDocument="{}"
    )
    batch = boto3.client("batch", region_name=REGION)
    env = batch.create_compute_environment(
        computeEnvironmentName="contract-ce", type="UNMANAGED", state="ENABLED", serviceRole=ROLE
    )
    batch.create_job_queue(
        jobQueueName="contract-q",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}],
    )
    batch.register_job_definition(
        jobDefinitionName="d",
        type="container",
        containerProperties={"image": "x", "vcpus": 1, "memory": 128, "command": ["true"]},
    )
    spec = BatchJobStep(id="s", type="batch_job", job_queue="contract-q", job_definition="d")

    def count() -> int:
        listed = batch.list_jobs(
            jobQueue="contract-q", filters=[{"name": "JOB_NAME", "values": ["*"]}]
        )
        return len(listed["jobSummaryList"])

    return Case("batch_job", BatchJobs(batch), spec, {}, count)


def _glue() -> Case:
    glue = boto3.client("glue", region_name=REGION)
    glue.create_job(
        Name="j",
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": "s3://b/s"},
        ExecutionProperty={"MaxConcurrentRuns": 5},  # two attempts' runs at once
    )

    class StopRecorded:  # moto has no BatchStopJobRun
        def __getattr__(self, name: str) -> Any:
            return getattr(glue, name)

        def batch_stop_job_run(self, **kwargs: Any) -> dict[str, Any]:
            return {}

    spec = GlueJobStep(id="s", type="glue_job", job_name="j")
    return Case(
        "glue_job",
        GlueJobs(StopRecorded()),
        spec,
        {},
        lambda: len(glue.get_job_runs(JobName="j")["JobRuns"]),
    )


def _sfn() -> Case:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    spec = SfnExecutionStep(id="s", type="sfn_execution", state_machine=arn)
    return Case(
        "sfn_execution",
        SfnExecutions(sfn),
        spec,
        {"input": {"a": 1}},
        lambda: len(sfn.list_executions(stateMachineArn=arn)["executions"]),
    )


def _local() -> Case:
    calls: list[str] = []

    def play(event: dict[str, Any]) -> int:
        calls.append(event["idempotency_key"])
        return 0

    spec = EcsTaskStep(id="s", type="ecs_task", cluster="c", task_definition="t")
    backend = LocalJobs("ecs_task", {"t": "contract:play"}, lambda ref: play)
    return Case("ecs_task", backend, spec, {}, lambda: len(calls))


MAKERS = {"ecs": _ecs, "batch": _batch, "glue": _glue, "sfn": _sfn, "local": _local}


@pytest.fixture(params=sorted(MAKERS))
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    previous = default_user_config.setdefault("batch", {}).get("use_docker", True)
    default_user_config["batch"]["use_docker"] = False
    for model in ("ecs::task", "glue::job_run"):
        state_manager.set_transition(
            model_name=model, transition={"progression": "manual", "times": 10**9}
        )
    try:
        with mock_aws():
            yield MAKERS[request.param]()
    finally:
        default_user_config["batch"]["use_docker"] = previous
        for model in ("ecs::task", "glue::job_run"):
            state_manager.unset_transition(model)


def request_of(case: Case, key: str) -> JobRequest:
    return JobRequest(case.kind, key, case.spec, case.rendered)


def test_work_never_started_is_not_found(case: Case) -> None:
    assert case.backend.find(request_of(case, "01RUN/s/1")) is None
    case.backend.stop(request_of(case, "01RUN/s/1"), "nothing to stop")  # does nothing


def test_a_start_is_found_again_and_a_second_start_is_the_same_work(case: Case) -> None:
    req = request_of(case, "01RUN/s/1")
    started = case.backend.start(req)
    assert started.error is None and started.handle
    found = case.backend.find(req)
    assert found is not None and found.handle == started.handle
    again = case.backend.start(req)
    assert again.handle == started.handle
    assert case.count() == 1
    other = case.backend.start(request_of(case, "01RUN/s/2"))  # the next attempt
    assert other.handle != started.handle and case.count() == 2


def test_stopping_is_idempotent(case: Case) -> None:
    req = request_of(case, "01RUN/s/1")
    case.backend.start(req)
    case.backend.stop(req, "stop")
    case.backend.stop(req, "stop again")
    assert case.backend.find(req) is not None  # stopped work is still known


@pytest.fixture(params=["secrets_manager", "mapped"])
def secrets(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "mapped":
        yield MappedSecrets({"api/token": "t0k"})
        return
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        client.create_secret(Name="api/token", SecretString="t0k")
        yield SecretsManagerSecrets(client)


def test_secrets_by_name(secrets: Any) -> None:
    assert secrets.get("api/token") == "t0k"
    with pytest.raises(SecretNotFound):
        secrets.get("api/missing")
