"""The look-up a Batch, Glue or ECS backend makes by the attempt key (ListJobs and
DescribeJobs, GetJobRuns, ListTasks) refused transiently, past botocore's own retries:

- in a stop (a stopped run, a timeout), it raises, so a ``stop_work`` timer asks again
  until the work stops; it was read as "running, no handle" and the stop stopped nothing;
- in a start, nothing is submitted blind: Batch and Glue give the attempt back (READY,
  its permits released) and start it again after a backoff, as the same attempt under
  the same key, on no retry budget (a step with ``retries: 0`` still succeeds); after
  MAX_START_GIVE_BACKS the attempt fails as the platform error it was before give-backs
  (retried on the platform budget, a new key). ECS runs its task under the attempt's
  clientToken. Before give-backs, a Batch or Glue start spent a platform retry; before
  that, the attempt waited for a poll that found nothing, then failed.

moto plays the services; a wrapper plays the throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.batch.models import batch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.batch import BatchJobs
from podium.adapters.jobs.ecs import EcsTasks
from podium.adapters.jobs.glue import GlueJobs
from podium.core.dsl.load import validate_definition
from podium.core.engine.external import Phase
from podium.core.engine.retry import MAX_START_GIVE_BACKS, PLATFORM_BUDGET, give_backs_counter
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import JobRequest
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

from .external_support import held, manual_ecs_tasks
from .test_aws_jobs import moto_batch_queue

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-test"


class Refusing:
    """A boto3 client whose calls named in ``refuse`` fail with ``code`` while they have
    refusals left; every call is recorded."""

    def __init__(self, client: Any, code: str = "ThrottlingException") -> None:
        self.client, self._code = client, code
        self.refuse: dict[str, int] = {}
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            if self.refuse.get(name, 0) > 0:
                self.refuse[name] -= 1
                error = {
                    "Error": {"Code": self._code, "Message": "Rate exceeded"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                }
                raise ClientError(error, name)
            return attr(**kwargs)

        return call


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def record_of(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "job")
    assert record is not None
    return record


def one_step(name: str, step: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "steps": [{"id": "job", **step}]}


def first_attempts_failure(rt: LocalRuntime, run_id: str) -> dict[str, Any]:
    """The timeline's record of attempt 1's failure (its retry)."""
    (retry,) = [e for e in rt.store.list_events(run_id) if e.kind == "retry" and e.attempt == 1]
    return retry.detail


def an_hour_of_timers(rt: LocalRuntime) -> None:
    for _ in range(6):
        rt.clock.advance(600_000)  # type: ignore[union-attr]
        rt.pump(wait=False)


# ---- Batch -----------------------------------------------------------------------------


@pytest.fixture
def batch(rt: LocalRuntime) -> Iterator[Refusing]:
    with moto_batch_queue() as client:
        refusing = Refusing(client)
        rt.services.jobs = {"batch_job": BatchJobs(refusing)}
        yield refusing


BATCH_STEP = {"type": "batch_job", "job_queue": "podium-q", "job_definition": "features"}


def batch_jobs(batch: Refusing) -> list[dict[str, Any]]:
    listed = batch.list_jobs(jobQueue="podium-q", filters=[{"name": "JOB_NAME", "values": ["*"]}])
    ids = [j["jobId"] for j in listed["jobSummaryList"]]
    return list(batch.describe_jobs(jobs=ids)["jobs"]) if ids else []


def batch_running(rt: LocalRuntime, batch: Refusing, **step: Any) -> tuple[str, Any]:
    """A run whose Batch job is submitted and held RUNNING (moto's job, to check its stop)."""
    rt.push(one_step("b", {**BATCH_STEP, **step}))
    run = rt.start_run("b")
    rt.pump(wait=False)
    (job,) = batch_jobs(batch)
    moto_job = batch_backends[DEFAULT_ACCOUNT_ID][REGION]._jobs[job["jobId"]]
    moto_job.status = "RUNNING"
    return run.run_id, moto_job


@pytest.mark.parametrize("call", ["list_jobs", "describe_jobs"])
def test_a_batch_stop_whose_look_up_is_throttled_is_asked_again(
    rt: LocalRuntime, batch: Refusing, call: str
) -> None:
    run_id, job = batch_running(rt, batch)
    counted: list[str] = []
    rt.services.metrics.count = lambda name, value=1: counted.append(name)  # type: ignore[method-assign]
    batch.refuse[call] = 1  # once, then the service answers
    stop_run(rt.services, run_id, "stopped by a test")
    assert record_of(rt, run_id).status is StepStatus.STOPPED
    assert not job.stop  # the first stop could not look the job up...
    assert counted.count("ExternalStopFailed") == 1
    an_hour_of_timers(rt)
    assert job.stop is True  # ...a stop_work timer asked again, and terminated it
    assert job.job_stopped_reason == "terminated by podium: stopped by a test"
    # Once by the timer, once by the poll already due asks once more: the net under a start racing a stop, core/engine/left_work.py (moto keeps the job RUNNING).
    assert batch.calls.count("terminate_job") == 2


def test_a_batch_job_past_its_timeout_is_terminated_though_its_look_up_is_throttled(
    rt: LocalRuntime, batch: Refusing
) -> None:
    run_id, job = batch_running(rt, batch, timeout="10m")
    batch.refuse["list_jobs"] = 2  # the look-ups due with the deadline: a poll's, the stop's
    rt.clock.advance(600_000)  # type: ignore[union-attr]
    rt.pump(wait=False)
    an_hour_of_timers(rt)
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    assert job.stop is True
    assert "terminated by podium" in job.job_stopped_reason


def test_a_batch_stop_whose_look_up_is_refused_for_good_is_not_asked_again(
    rt: LocalRuntime, batch: Refusing
) -> None:
    run_id, job = batch_running(rt, batch)
    denied = Refusing(batch.client, "AccessDeniedException")
    denied.refuse["list_jobs"] = 100
    rt.services.jobs = {"batch_job": BatchJobs(denied)}
    stop_run(rt.services, run_id, "stopped by a test")
    an_hour_of_timers(rt)
    assert record_of(rt, run_id).status is StepStatus.STOPPED
    # No timer asks again (no retry fixes access denied); the poll already due asks once more: the net under a start racing a stop, core/engine/left_work.py.
    assert denied.calls.count("list_jobs") == 2
    assert not job.stop


def test_a_batch_start_whose_look_up_is_throttled_is_given_back_and_spends_no_retry(
    rt: LocalRuntime, batch: Refusing
) -> None:
    rt.push(one_step("b", {**BATCH_STEP, "retries": 0}))
    run = rt.start_run("b")
    counted: list[str] = []
    rt.services.metrics.count = lambda name, value=1: counted.append(name)  # type: ignore[method-assign]
    batch.refuse["list_jobs"] = 1
    rt.pump(wait=False)
    assert counted.count("StartsGivenBack") == 1
    record = record_of(rt, run.run_id)
    # Given back: READY again before attempt 1 (its next claim is attempt 1 again), with
    # nothing submitted, nothing recorded as a failure, and no retry spent.
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert record.retry_counts == {give_backs_counter(1): 1}
    assert "submit_job" not in batch.calls
    assert not [e for e in rt.store.list_events(run.run_id) if e.kind in ("retry", "failed")]
    (said,) = [e for e in rt.store.list_events(run.run_id) if e.kind == "give_back"]
    assert (said.step, said.attempt, said.detail["given"]) == ("job", 1, 1)
    assert "nothing was started" in said.detail["error"] and said.detail["again_at"] > said.at
    rt.pump()  # the backoff, then attempt 1 again: looks up, submits, and its poll finds it
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1)
    assert "platform" not in record.retry_counts
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    assert batch.calls.count("list_jobs") >= 2 and batch.calls.count("submit_job") == 1
    (job,) = batch_jobs(batch)
    assert job["parameters"]["podium_attempt"] == f"{run.run_id}/job/1"  # the same key


def test_a_batch_start_given_back_gives_its_permit_to_the_next_in_line(
    rt: LocalRuntime, batch: Refusing
) -> None:
    """The attempt holds its permit from its claim; given back, it must not hold it
    through its backoff: the step waiting on the key takes it and runs first."""
    step = {**BATCH_STEP, "concurrency": {"key": "gpu", "limit": 1}}
    rt.push({**one_step("b", step), "run_strategy": {"parallel": 2}})
    first = rt.start_run("b")
    second = rt.start_run("b")
    batch.refuse["list_jobs"] = 1  # the first claim's look-up
    rt.pump(wait=False)
    given_back = record_of(rt, first.run_id)
    assert (given_back.status, given_back.attempt) == (StepStatus.READY, 0)
    holders = rt.store.permits().state("gpu").holders
    assert f"{first.run_id}/job" not in holders  # nothing stays held by it
    assert list(holders) == [f"{second.run_id}/job"]  # the next in line has it
    assert batch.calls.count("submit_job") == 1  # the second run's job
    rt.pump()
    for run in (first, second):
        record = record_of(rt, run.run_id)
        assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1)
        assert "platform" not in record.retry_counts
    state = rt.store.permits().state("gpu")
    assert (state.active, state.waiting, state.holders) == (0, 0, {})
    assert batch.calls.count("submit_job") == 2  # one job each, no more


def test_a_batch_start_throttled_past_its_give_backs_fails_as_a_platform_error(
    rt: LocalRuntime, batch: Refusing
) -> None:
    """A service down for good: each attempt gives back MAX_START_GIVE_BACKS times, then
    fails as the platform error it was (retried on the platform budget, a new key), and
    the step ends FAILED when that budget is spent, having submitted nothing."""
    rt.push(one_step("b", BATCH_STEP))
    run = rt.start_run("b")
    batch.refuse["list_jobs"] = 10_000
    rt.pump()
    record = record_of(rt, run.run_id)
    attempts = PLATFORM_BUDGET.max_attempts + 1
    assert (record.status, record.attempt) == (StepStatus.FAILED, attempts)
    assert record.error_type == "Podium.PlatformError"
    assert record.retry_counts["platform"] == PLATFORM_BUDGET.max_attempts
    assert batch.calls.count("list_jobs") == attempts * (MAX_START_GIVE_BACKS + 1)
    assert "submit_job" not in batch.calls
    failure = first_attempts_failure(rt, run.run_id)
    assert failure["error"].startswith("Podium.PlatformError: Batch ListJobs: Throttling")
    assert "nothing was started" in failure["error"]
    assert failure["next_attempt"] == 2
    assert rt.store.get_run(run.run_id).status is RunStatus.FAILED


def test_a_batch_start_that_lists_its_job_but_cannot_describe_it_submits_no_second(
    rt: LocalRuntime, batch: Refusing
) -> None:
    """The job named for the attempt is listed (submitted before): a throttled
    DescribeJobs leaves it to the poll, and no second job is submitted."""
    spec = validate_definition(one_step("b", BATCH_STEP)).steps[0]
    request = JobRequest("batch_job", "01KDVDNA007QWMT4HMQ12H9J47/job/1", spec, {})
    jobs = BatchJobs(batch)
    first = jobs.start(request)
    batch.refuse["describe_jobs"] = 1
    again = jobs.start(request)
    assert first.phase is Phase.RUNNING and first.handle
    assert again.phase is Phase.RUNNING and again.error is None
    assert batch.calls.count("submit_job") == 1
    assert len(batch_jobs(batch)) == 1


# ---- Glue ------------------------------------------------------------------------------


class StopsRecorded:
    """moto's Glue without BatchStopJobRun (moto lacks it): the call is recorded."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.stopped: list[list[str]] = []

    def batch_stop_job_run(self, JobName: str, JobRunIds: list[str]) -> dict[str, Any]:
        self.stopped.append(JobRunIds)
        return {"SuccessfulSubmissions": [], "Errors": []}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def glue(rt: LocalRuntime) -> Iterator[Refusing]:
    with held("glue::job_run"):
        client = boto3.client("glue", region_name=REGION)
        client.create_job(
            Name="etl", Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://s/etl.py"}
        )
        yield Refusing(client)


GLUE_STEP = {"type": "glue_job", "job_name": "etl"}


def test_a_glue_stop_whose_look_up_is_throttled_is_asked_again(
    rt: LocalRuntime, glue: Refusing
) -> None:
    recorded = StopsRecorded(glue)
    rt.services.jobs = {"glue_job": GlueJobs(recorded)}
    rt.push(one_step("g", GLUE_STEP))
    run = rt.start_run("g")
    rt.pump(wait=False)
    (job_run,) = glue.get_job_runs(JobName="etl")["JobRuns"]
    glue.refuse["get_job_runs"] = 1
    stop_run(rt.services, run.run_id, "stopped by a test")
    assert record_of(rt, run.run_id).status is StepStatus.STOPPED
    assert recorded.stopped == []  # the first stop could not look the run up...
    an_hour_of_timers(rt)
    # ...a stop_work timer stopped it, and the poll already due asks once more: the net under a start racing a stop, core/engine/left_work.py.
    assert recorded.stopped == [[job_run["Id"]], [job_run["Id"]]]


def test_a_glue_start_whose_look_up_is_throttled_is_given_back_and_spends_no_retry(
    rt: LocalRuntime, glue: Refusing
) -> None:
    rt.services.jobs = {"glue_job": GlueJobs(glue)}
    rt.push(one_step("g", {**GLUE_STEP, "retries": 0}))
    run = rt.start_run("g")
    glue.refuse["get_job_runs"] = 2  # twice: two give-backs
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert "start_job_run" not in glue.calls
    rt.clock.advance(60_000)  # type: ignore[union-attr]  # past the first backoff
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert record.retry_counts == {give_backs_counter(1): 2}
    rt.clock.advance(60_000)  # type: ignore[union-attr]  # past the second
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert "platform" not in record.retry_counts
    assert not [e for e in rt.store.list_events(run.run_id) if e.kind in ("retry", "failed")]
    assert glue.calls.count("start_job_run") == 1
    (job_run,) = glue.get_job_runs(JobName="etl")["JobRuns"]  # one run in all
    assert job_run["Arguments"]["--podium-attempt"] == f"{run.run_id}/job/1"


# ---- ECS -------------------------------------------------------------------------------


ECS_STEP = {
    "type": "ecs_task",
    "cluster": "ml",
    "task_definition": "train",
    "launch_type": "FARGATE",
}


@pytest.fixture
def ecs(rt: LocalRuntime) -> Iterator[Refusing]:
    with manual_ecs_tasks():
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName="ml")
        client.register_task_definition(
            family="train",
            networkMode="bridge",
            containerDefinitions=[{"name": "trainer", "image": "x", "memory": 512}],
        )
        refusing = Refusing(client)
        rt.services.jobs = {"ecs_task": EcsTasks(refusing)}
        yield refusing


def test_an_ecs_start_whose_look_up_is_throttled_runs_its_task_by_the_attempt_token(
    rt: LocalRuntime, ecs: Refusing
) -> None:
    rt.push(one_step("e", ECS_STEP))
    run = rt.start_run("e")
    ecs.refuse["list_tasks"] = 1
    rt.pump(wait=False)
    assert ecs.calls.count("run_task") == 1
    (arn,) = ecs.list_tasks(cluster="ml")["taskArns"]
    an_hour_of_timers(rt)  # its polls find the task running: the same attempt
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert record.retry_counts == {}
    assert ecs.list_tasks(cluster="ml")["taskArns"] == [arn]  # one task in all
    stop_run(rt.services, run.run_id, "stopped by a test")
    assert rt.store.get_run(run.run_id).status is RunStatus.STOPPED
    (task,) = ecs.describe_tasks(cluster="ml", tasks=[arn])["tasks"]
    assert task["desiredStatus"] == "STOPPED"


def test_an_ecs_start_whose_look_up_is_refused_for_good_fails_without_a_task(
    rt: LocalRuntime, ecs: Refusing
) -> None:
    denied = Refusing(ecs.client, "AccessDeniedException")
    denied.refuse["list_tasks"] = 1
    rt.services.jobs = {"ecs_task": EcsTasks(denied)}
    rt.push(one_step("e", ECS_STEP))
    run = rt.start_run("e")
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.FAILED, 1)
    assert record.error_type == "Podium.ConfigError"
    assert "run_task" not in denied.calls
