"""External work that must never be lost nor started twice: a Glue job with a long
history of runs, a start whose answer was lost after the service acted, a Batch
attempt key too long for its tag, an ECS task stopped by the platform or by someone
while its container exits on the signal (moto, a lost answer played by a wrapper)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ReadTimeoutError
from moto.core import DEFAULT_ACCOUNT_ID

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.batch import BatchJobs
from podium.adapters.jobs.ecs import EcsTasks
from podium.adapters.jobs.glue import GlueJobs
from podium.adapters.jobs.sfn import SfnExecutions
from podium.core.dsl.load import validate_definition
from podium.core.engine.external import parse_key
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import StepStatus
from podium.core.ports import JobRequest
from podium.handlers import events as events_handler
from podium.local.runtime import LocalRuntime
from podium.service.external_events import ROUTES
from podium.service.lifecycle import stop_run

from .external_support import ecs_event, held, manual_ecs_tasks
from .test_aws_jobs import moto_batch_queue

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-test"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime, manual_ecs_tasks():
        yield runtime


def one_step(name: str, step: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "steps": [{"id": "job", **step}]}


def record_of(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "job")
    assert record is not None
    return record


class LosesFirstAnswer:
    """The named call reaches the service and acts; its answer is lost, once."""

    def __init__(self, client: Any, method: str) -> None:
        self._client, self._method, self.lost = client, method, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name != self._method:
            return attr

        def call(**kwargs: Any) -> Any:
            out = attr(**kwargs)
            if not self.lost:
                self.lost += 1
                raise ReadTimeoutError(endpoint_url=f"https://{name}.{REGION}.amazonaws.com")
            return out

        return call


def ecs_client() -> Any:
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName="ml")
    ecs.register_task_definition(
        family="train",
        networkMode="bridge",
        containerDefinitions=[{"name": "trainer", "image": "x", "memory": 512}],
    )
    return ecs


ECS_STEP = {
    "type": "ecs_task",
    "cluster": "ml",
    "task_definition": "train",
    "container": "trainer",
    "launch_type": "FARGATE",
}


# ---- Glue: the attempt's run is searched back to the attempt, not to a page limit ------


@pytest.fixture
def glue_runs_held() -> Iterator[None]:
    with held("glue::job_run"):
        yield


@pytest.mark.usefixtures("glue_runs_held")
def test_a_glue_job_with_hundreds_of_past_runs_is_started(rt: LocalRuntime) -> None:
    glue = boto3.client("glue", region_name=REGION)
    glue.create_job(
        Name="hourly_etl",
        Role=ROLE,
        Command={"Name": "glueetl", "ScriptLocation": "s3://s/etl.py"},
        ExecutionProperty={"MaxConcurrentRuns": 1000},
    )
    for i in range(501):  # three weeks of an hourly job: over five pages of GetJobRuns
        glue.start_job_run(JobName="hourly_etl", Arguments={"--n": str(i)})
    rt.services.jobs = {"glue_job": GlueJobs(glue)}
    rt.push(one_step("g", {"type": "glue_job", "job_name": "hourly_etl"}))
    run = rt.start_run("g")
    rt.pump(wait=False)
    runs: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"JobName": "hourly_etl"}
    while True:
        page = glue.get_job_runs(**kwargs)
        runs += page["JobRuns"]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    mine = [r for r in runs if "--podium-attempt" in (r.get("Arguments") or {})]
    assert len(mine) == 1  # started once, found again by its argument
    assert record_of(rt, run.run_id).status is StepStatus.RUNNING


def test_glue_find_stops_at_runs_older_than_the_attempts_run() -> None:
    """GetJobRuns lists newest first: a run older than the attempt's run (less the clock
    skew) ends the search with "not found", so the start goes ahead."""
    from datetime import UTC, datetime

    spec = validate_definition(
        {"name": "w", "steps": [{"id": "g", "type": "glue_job", "job_name": "etl"}]}
    ).steps[0]
    old = {"Id": "jr_old", "StartedOn": datetime(2025, 1, 1, tzinfo=UTC), "Arguments": {}}
    pages = iter([{"JobRuns": [old], "NextToken": "more"}])

    class Glue:
        def get_job_runs(self, **kwargs: Any) -> Any:
            return next(pages)  # a second page would raise StopIteration

    key = "01KDVDNA007QWMT4HMQ12H9J47/g/1"  # a run created in 2026
    assert GlueJobs(Glue()).find(JobRequest("glue_job", key, spec, {})) is None


# ---- a start whose answer was lost: the same work is found by the attempt's key -----


def test_a_lost_run_task_answer_leaves_one_task_and_the_stop_stops_it(
    rt: LocalRuntime,
) -> None:
    ecs = ecs_client()
    rt.services.jobs = {"ecs_task": EcsTasks(LosesFirstAnswer(ecs, "run_task"))}
    rt.push(one_step("e", ECS_STEP))
    run = rt.start_run("e")
    rt.pump(wait=False)
    rt.clock.advance(3_700_000)  # past any poll and platform retry delay
    rt.pump(wait=False)
    arns = ecs.list_tasks(cluster="ml")["taskArns"]
    assert len(arns) == 1
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)  # settled, not failed
    stop_run(rt.services, run.run_id, "stopped by a test")
    (task,) = ecs.describe_tasks(cluster="ml", tasks=arns)["tasks"]
    assert task["desiredStatus"] == "STOPPED"


def test_run_task_carries_a_client_token_of_the_attempt_key() -> None:
    seen: list[dict[str, Any]] = []

    class Ecs:
        def list_tasks(self, **kwargs: Any) -> Any:
            return {"taskArns": []}

        def run_task(self, **kwargs: Any) -> Any:
            seen.append(kwargs)
            return {"tasks": [{"taskArn": "t", "lastStatus": "PROVISIONING"}]}

    spec = validate_definition({"name": "w", "steps": [{"id": "e", **ECS_STEP}]}).steps[0]
    jobs = EcsTasks(Ecs())
    for key in ("r1/e/1", "r1/e/1", "r1/e/2"):
        jobs.start(JobRequest("ecs_task", key, spec, {}))
    tokens = [kwargs["clientToken"] for kwargs in seen]
    assert tokens[0] == tokens[1] != tokens[2]
    assert all(len(token) <= 64 for token in tokens)


def test_a_lost_start_execution_answer_is_found_and_stopped(rt: LocalRuntime) -> None:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    wait = {"StartAt": "P", "States": {"P": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    arn = sfn.create_state_machine(name="child", roleArn=ROLE, definition=json.dumps(wait))[
        "stateMachineArn"
    ]
    rt.services.jobs = {"sfn_execution": SfnExecutions(LosesFirstAnswer(sfn, "start_execution"))}
    rt.push(one_step("s", {"type": "sfn_execution", "state_machine": arn}))
    run = rt.start_run("s")
    rt.pump(wait=False)
    rt.clock.advance(3_700_000)
    rt.pump(wait=False)
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1
    stop_run(rt.services, run.run_id, "stop")
    statuses = [e["status"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
    assert statuses == ["ABORTED"]


# ---- Batch: an attempt key longer than its tag -----------------------------------------


def long_key() -> str:
    run = "01KDVDNA007QWMT4HMQ12H9J47"
    for step, i in [
        ("for_each_customer_region_partition", 12),
        ("for_each_day_in_backfill_window", 30),
        ("for_each_table_in_the_sales_schema", 7),
        ("for_each_hourly_partition_of_table", 23),
        ("while_more_pages_in_the_export_api", 3),
    ]:
        run = child_run_id(run, step, i)
    key = f"{run}/compute_customer_features_with_aws_batch_for_the_partition/1"
    assert len(key) > 256
    return key


def test_a_batch_job_with_a_key_over_256_characters_is_found_and_routed() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()), moto_batch_queue() as batch:
        step = {
            "id": "s",
            "type": "batch_job",
            "job_queue": "podium-q",
            "job_definition": "features",
        }
        spec = validate_definition({"name": "w", "steps": [step]}).steps[0]
        request = JobRequest("batch_job", long_key(), spec, {})
        jobs = BatchJobs(batch)
        first = jobs.start(request)
        found = jobs.find(request)
        jobs.start(request)  # a redelivered claim: the same job
        listed = batch.list_jobs(
            jobQueue="podium-q", filters=[{"name": "JOB_NAME", "values": ["*"]}]
        )["jobSummaryList"]
        (job,) = batch.describe_jobs(jobs=[first.handle])["jobs"]
    assert found is not None and found.handle == first.handle
    assert len(listed) == 1
    route = ROUTES[("aws.batch", "Batch Job State Change")]
    key = route.key_of(None, job)  # type: ignore[arg-type]
    assert key == long_key() and parse_key(key) is not None


def test_a_batch_event_without_parameters_is_not_routed_by_a_cut_tag() -> None:
    route = ROUTES[("aws.batch", "Batch Job State Change")]
    cut = {"tags": {"podium:attempt": long_key()[:256]}}
    assert route.key_of(None, cut) is None  # type: ignore[arg-type]
    short = {"tags": {"podium:attempt": "r/s/1"}}
    assert route.key_of(None, short) == "r/s/1"  # type: ignore[arg-type]


# ---- ECS: who stopped the task decides, not the exit code of the signal ----------------


def stopped_by(rt: LocalRuntime, stop_code: str, reason: str, exit_code: int) -> Any:
    ecs = ecs_client()
    rt.services.jobs = {"ecs_task": EcsTasks(ecs)}
    rt.push(one_step("e", ECS_STEP))
    run = rt.start_run("e")
    rt.pump(wait=False)
    (arn,) = ecs.list_tasks(cluster="ml")["taskArns"]
    (task,) = ecs.describe_tasks(cluster="ml", tasks=[arn])["tasks"]
    stopped = ecs_event(
        task, "STOPPED", exit_code=exit_code, stop_code=stop_code, stopped_reason=reason
    )
    events_handler.handler(stopped, None)
    rt.pump(wait=False)
    return record_of(rt, run.run_id)


@pytest.mark.parametrize("exit_code", [143, 137])
def test_a_spot_interruption_is_a_platform_error_whatever_the_exit_code(
    rt: LocalRuntime, exit_code: int
) -> None:
    record = stopped_by(rt, "SpotInterruption", "Your Spot Task was interrupted.", exit_code)
    # Retried on the platform budget: a new attempt started after the delay.
    assert record.attempt == 2 or record.error_type == "Podium.PlatformError", record.error


def test_a_task_stopped_by_someone_is_stopped_whatever_the_exit_code(rt: LocalRuntime) -> None:
    record = stopped_by(rt, "UserInitiated", "Task stopped by user", 143)
    assert record.error_type == "Podium.Stopped", record.error
