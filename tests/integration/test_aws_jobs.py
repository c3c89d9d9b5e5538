"""batch_job, glue_job and sfn_execution on moto (where moto implements the calls), with
the services' state-change events injected through the events handler: success, a
failure, a lost event caught by polling, a duplicated event, stop and timeout."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import boto3
import pytest
from moto.batch.models import batch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.config import default_user_config
from moto.moto_api import state_manager
from moto.stepfunctions.models import stepfunctions_backends

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.batch import BatchJobs
from podium.adapters.jobs.glue import GlueJobs
from podium.adapters.jobs.sfn import SfnExecutions
from podium.core.engine.status import RunStatus, StepStatus
from podium.handlers import events as events_handler
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-test"
G = TypeVar("G")


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    previous = default_user_config.get("batch", {}).get("use_docker", True)
    default_user_config.setdefault("batch", {})["use_docker"] = False  # no Docker: batch_simple
    state_manager.set_transition(
        model_name="glue::job_run", transition={"progression": "manual", "times": 10**9}
    )
    try:
        with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
            yield runtime
    finally:
        default_user_config["batch"]["use_docker"] = previous
        state_manager.unset_transition("glue::job_run")


def event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e",
        "source": source,
        "detail-type": detail_type,
        "account": DEFAULT_ACCOUNT_ID,
        "region": REGION,
        "time": "2026-12-01T00:00:00Z",
        "resources": [],
        "detail": detail,
    }


def one_step(name: str, step: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {
        "name": name,
        "params": {k: {"type": "string", "default": v} for k, v in params.items()},
        "steps": [{"id": "job", **step}],
    }


def record_of(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "job")
    assert record is not None
    return record


# ---- Batch -----------------------------------------------------------------------------


@contextmanager
def moto_batch_queue(**container: Any) -> Iterator[Any]:
    """moto's Batch (inside a mock: a runtime's) without Docker, with the role
    ``podium-test``, an unmanaged compute environment, the queue ``podium-q`` and the
    container job definition ``features`` (``container`` added to its properties); gives
    the Batch client."""
    previous = default_user_config.get("batch", {}).get("use_docker", True)
    default_user_config.setdefault("batch", {})["use_docker"] = False  # no Docker: batch_simple
    try:
        boto3.client("iam", region_name=REGION).create_role(
            RoleName="podium-test", AssumeRolePolicyDocument="{}"
        )
        client = boto3.client("batch", region_name=REGION)
        env = client.create_compute_environment(
            computeEnvironmentName="podium-ce", type="UNMANAGED", state="ENABLED", serviceRole=ROLE
        )
        client.create_job_queue(
            jobQueueName="podium-q",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}
            ],
        )
        client.register_job_definition(
            jobDefinitionName="features",
            type="container",
            containerProperties={"image": "busybox", "vcpus": 1, "memory": 128, **container},
        )
        yield client
    finally:
        default_user_config["batch"]["use_docker"] = previous


@pytest.fixture
def batch(rt: LocalRuntime) -> Iterator[Any]:
    with moto_batch_queue(command=["true"]) as client:
        rt.services.jobs = {"batch_job": BatchJobs(client)}
        yield client


BATCH_STEP = {
    "type": "batch_job",
    "job_queue": "podium-q",
    "job_definition": "features",
    "command": ["python", "features.py", "${params.day}"],
    "environment": {"DAY": "${params.day}"},
}


def moto_batch_job(job_id: str) -> Any:
    return batch_backends[DEFAULT_ACCOUNT_ID][REGION]._jobs[job_id]


def batch_started(rt: LocalRuntime, batch: Any, **step: Any) -> tuple[str, dict[str, Any]]:
    rt.push(one_step("b", {**BATCH_STEP, **step}, day="2026-12-01"))
    run = rt.start_run("b")
    rt.pump(wait=False)
    (summary,) = batch.list_jobs(
        jobQueue="podium-q", filters=[{"name": "JOB_NAME", "values": ["*"]}]
    )["jobSummaryList"]
    job = batch.describe_jobs(jobs=[summary["jobId"]])["jobs"][0]
    return run.run_id, job


def test_batch_job_submits_with_overrides_and_completes_by_polling(
    rt: LocalRuntime, batch: Any
) -> None:
    run_id, job = batch_started(rt, batch)
    assert job["tags"]["podium:attempt"] == f"{run_id}/job/1"
    assert job["parameters"]["podium_attempt"] == f"{run_id}/job/1"
    assert job["container"]["command"] == ["python", "features.py", "2026-12-01"]
    assert record_of(rt, run_id).status is StepStatus.RUNNING
    rt.pump()  # no event: the poll finds the job SUCCEEDED (moto's simple Batch)
    record = record_of(rt, run_id)
    assert record.status is StepStatus.SUCCEEDED
    assert record.output["job_id"] == job["jobId"]


def test_batch_job_fails_by_its_event_once_however_often_it_comes(
    rt: LocalRuntime, batch: Any
) -> None:
    run_id, job = batch_started(rt, batch)
    failed = event(
        "aws.batch",
        "Batch Job State Change",
        {
            "jobId": job["jobId"],
            "jobName": job["jobName"],
            "status": "FAILED",
            "statusReason": "Essential container in task exited",
            "container": {"exitCode": 2},
            "tags": job["tags"],
            "parameters": job["parameters"],
        },
    )
    events_handler.handler(failed, None)
    events_handler.handler(failed, None)
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert record.status is StepStatus.FAILED and record.attempt == 1
    assert "exited with code 2" in (record.error or "")
    assert rt.store.get_run(run_id).status is RunStatus.FAILED


def test_stopping_a_run_terminates_its_batch_job(rt: LocalRuntime, batch: Any) -> None:
    run_id, job = batch_started(rt, batch)
    moto_batch_job(job["jobId"]).status = "RUNNING"
    stop_run(rt.services, run_id, "stopped by a test")
    terminated = moto_batch_job(job["jobId"])  # moto records TerminateJob, the job runs on
    assert terminated.stop is True
    assert terminated.job_stopped_reason == "terminated by podium: stopped by a test"
    assert record_of(rt, run_id).status is StepStatus.STOPPED


def test_a_batch_job_past_its_timeout_is_terminated(rt: LocalRuntime, batch: Any) -> None:
    run_id, job = batch_started(rt, batch, timeout="10m")
    moto_batch_job(job["jobId"]).status = "RUNNING"
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    assert "terminated by podium" in moto_batch_job(job["jobId"]).job_stopped_reason


# ---- Glue ------------------------------------------------------------------------------


class _RecordingGlue:
    """moto's Glue without BatchStopJobRun (moto does not implement it): the call is
    recorded, the rest goes to moto."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.stopped: list[tuple[str, list[str]]] = []

    def batch_stop_job_run(self, JobName: str, JobRunIds: list[str]) -> dict[str, Any]:
        self.stopped.append((JobName, JobRunIds))
        return {"SuccessfulSubmissions": [], "Errors": []}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def glue_with_nightly_etl(rt: LocalRuntime, wrap: Callable[[Any], G]) -> G:
    """moto's Glue (in ``rt``'s mock) with the job ``nightly_etl``; ``rt``'s glue_job
    steps use the client as ``wrap`` gives it, which is returned."""
    client = boto3.client("glue", region_name=REGION)
    client.create_job(
        Name="nightly_etl",
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/etl.py"},
    )
    wrapped = wrap(client)
    rt.services.jobs = {"glue_job": GlueJobs(wrapped)}
    return wrapped


@pytest.fixture
def glue(rt: LocalRuntime) -> _RecordingGlue:
    return glue_with_nightly_etl(rt, _RecordingGlue)


GLUE_STEP = {"type": "glue_job", "job_name": "nightly_etl", "arguments": {"--day": "${params.day}"}}


def glue_started(rt: LocalRuntime, glue: Any, **step: Any) -> tuple[str, dict[str, Any]]:
    rt.push(one_step("g", {**GLUE_STEP, **step}, day="2026-12-01"))
    run = rt.start_run("g")
    rt.pump(wait=False)
    (job_run,) = glue.get_job_runs(JobName="nightly_etl")["JobRuns"]
    return run.run_id, job_run


def glue_event(job_run: dict[str, Any], state: str, message: str = "") -> dict[str, Any]:
    detail = {"jobName": "nightly_etl", "jobRunId": job_run["Id"], "state": state}
    if message:
        detail["message"] = message
    return event("aws.glue", "Glue Job State Change", detail)


def test_glue_job_run_is_routed_back_through_its_arguments(rt: LocalRuntime, glue: Any) -> None:
    run_id, job_run = glue_started(rt, glue)
    assert job_run["Arguments"] == {"--day": "2026-12-01", "--podium-attempt": f"{run_id}/job/1"}
    events_handler.handler(glue_event(job_run, "RUNNING"), None)
    rt.pump(wait=False)
    assert record_of(rt, run_id).status is StepStatus.RUNNING
    events_handler.handler(glue_event(job_run, "FAILED", "division by zero"), None)
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert record.status is StepStatus.FAILED
    assert "the job run FAILED: division by zero" in (record.error or "")


def test_a_lost_glue_event_is_caught_by_polling(rt: LocalRuntime, glue: Any) -> None:
    state_manager.set_transition(
        model_name="glue::job_run", transition={"progression": "immediate"}
    )
    run_id, job_run = glue_started(rt, glue)
    rt.pump()
    record = record_of(rt, run_id)
    assert record.status is StepStatus.SUCCEEDED
    assert record.output["job_run_id"] == job_run["Id"]


def test_stopping_a_run_stops_its_glue_job_run(rt: LocalRuntime, glue: Any) -> None:
    run_id, job_run = glue_started(rt, glue)
    stop_run(rt.services, run_id, "stopped by a test")
    assert glue.stopped == [("nightly_etl", [job_run["Id"]])]
    assert record_of(rt, run_id).status is StepStatus.STOPPED


# ---- Step Functions --------------------------------------------------------------------


@pytest.fixture
def sfn(rt: LocalRuntime) -> tuple[Any, str]:
    client = boto3.client("stepfunctions", region_name=REGION)
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = client.create_state_machine(
        name="child", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    rt.services.jobs = {"sfn_execution": SfnExecutions(client)}
    return client, arn


def sfn_started(rt: LocalRuntime, sfn: tuple[Any, str], **step: Any) -> tuple[str, dict[str, Any]]:
    client, arn = sfn
    wf = one_step(
        "s",
        {
            "type": "sfn_execution",
            "state_machine": arn,
            "input": {"day": "${params.day}", "n": 3},
            **step,
        },
        day="2026-12-01",
    )
    rt.push(wf)
    run = rt.start_run("s")
    rt.pump(wait=False)
    (execution,) = client.list_executions(stateMachineArn=arn)["executions"]
    return run.run_id, client.describe_execution(executionArn=execution["executionArn"])


def sfn_event(execution: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    detail = {
        "executionArn": execution["executionArn"],
        "stateMachineArn": execution["stateMachineArn"],
        "name": execution["name"],
        "status": status,
        **extra,
    }
    return event("aws.states", "Step Functions Execution Status Change", detail)


def test_sfn_execution_output_is_the_steps_output(rt: LocalRuntime, sfn: Any) -> None:
    run_id, execution = sfn_started(rt, sfn)
    assert execution["name"] == f"{run_id}.job.1"
    assert json.loads(execution["input"]) == {"day": "2026-12-01", "n": 3}
    done = sfn_event(execution, "SUCCEEDED", output='{"rows": 7}')
    events_handler.handler(done, None)
    events_handler.handler(done, None)
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert record.status is StepStatus.SUCCEEDED and record.output == {"rows": 7}


def test_a_failed_execution_carries_its_error_name_to_retry_policies(
    rt: LocalRuntime, sfn: Any
) -> None:
    run_id, execution = sfn_started(
        rt, sfn, retry=[{"errors": ["Warehouse.Busy"], "max_attempts": 1, "interval": 1}]
    )
    failed = sfn_event(execution, "FAILED", error="Warehouse.Busy", cause="try later")
    events_handler.handler(failed, None)
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert record.status is StepStatus.RETRY_WAIT and record.error_type == "Warehouse.Busy"
    rt.clock.advance(2_000)  # type: ignore[union-attr]
    rt.pump(wait=False)
    client, arn = sfn
    names = sorted(e["name"] for e in client.list_executions(stateMachineArn=arn)["executions"])
    assert names == [f"{run_id}.job.1", f"{run_id}.job.2"]  # one execution per attempt


def test_a_lost_sfn_event_is_caught_by_polling(rt: LocalRuntime, sfn: Any) -> None:
    run_id, execution = sfn_started(rt, sfn)
    backend = stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION]
    moto_execution = backend.describe_execution(execution["executionArn"])
    moto_execution.status = "SUCCEEDED"
    moto_execution.output = '{"rows": 9}'
    rt.pump()
    assert record_of(rt, run_id).output == {"rows": 9}


def test_stopping_a_run_stops_its_execution(rt: LocalRuntime, sfn: Any) -> None:
    client, _ = sfn
    run_id, execution = sfn_started(rt, sfn)
    stop_run(rt.services, run_id, "stopped by a test")
    described = client.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "ABORTED"
    assert record_of(rt, run_id).status is StepStatus.STOPPED


def test_a_glue_run_past_its_timeout_is_stopped(rt: LocalRuntime, glue: Any) -> None:
    run_id, job_run = glue_started(rt, glue, timeout="10m")
    rt.pump()  # polls find it running until the deadline
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    # The timeout stopped it, and the poll already due asks once more (the net under a
    # start racing a stop, core/engine/left_work.py).
    assert glue.stopped == [("nightly_etl", [job_run["Id"]])] * 2


def test_an_execution_past_its_timeout_is_stopped(rt: LocalRuntime, sfn: Any) -> None:
    client, _ = sfn
    run_id, execution = sfn_started(rt, sfn, timeout="10m")
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    described = client.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "ABORTED"
