"""A Batch SubmitJob, a Glue StartJobRun or a Step Functions StartExecution refused
(throttled; for Glue, also ConcurrentRunsExceededException, the job's MaxConcurrentRuns,
and ResourceNumberLimitExceededException, the account's concurrent job runs; for Step
Functions, ExecutionLimitExceeded, the account's open executions) on every try botocore
made of it started nothing: the
attempt is given back (READY, its permits released, no retry spent) and submits again
after a backoff under the same key, as a throttled ECS RunTask does. Neither call has an
idempotency token, so a call whose tries were not all refused (a read timeout, then a
throttled try: the first may have been accepted) is still polled, holding its permits,
and its work found by the attempt key, never submitted a second time. Before, a refused
start was always polled, found nothing, and spent a platform retry (a new key).

moto plays the services. ``Refusing`` (test_job_lookup_throttled) plays a refusal
without botocore; ``Played`` plays the answers to each try inside botocore's own retry
loop (moto's request handler), so the record of tries is botocore's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.retries.standard import ExponentialBackoff
from moto.core.models import botocore_stubber

from podium.adapters.jobs.aws_errors import StartTries
from podium.adapters.jobs.batch import BatchJobs
from podium.adapters.jobs.glue import GlueJobs
from podium.adapters.jobs.sfn import SfnExecutions
from podium.core.dsl.load import validate_definition
from podium.core.engine.external import Phase
from podium.core.engine.retry import give_backs_counter
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import JobRequest
from podium.local.runtime import LocalRuntime

from . import test_job_lookup_throttled as lookup
from .test_job_lookup_throttled import (
    BATCH_STEP,
    GLUE_STEP,
    REGION,
    Refusing,
    batch_jobs,
    one_step,
    record_of,
)

# Its fixtures, under their own names (``batch`` and ``glue`` take ``rt``).
rt, batch, glue = lookup.rt, lookup.batch, lookup.glue

LOSE = "lose"  # the service acts, and its answer is lost (a read timeout)


class Played:
    """The tries of one operation answered as ``plays`` says, one entry a try, inside
    botocore's retry loop: LOSE (moto acts, the answer is lost), or ``(status, code)``
    (refused: moto never sees the try). Past the plays, moto answers. Backoff sleeps are
    cut to nothing."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, matches: Callable[[Any], bool]) -> None:
        self.plays: list[Any] = []
        self.tries = 0
        real = botocore_stubber.process_request

        def process(request: Any) -> Any:
            if not matches(request):
                return real(request)
            self.tries += 1
            play = self.plays.pop(0) if self.plays else None
            if play is None:
                return real(request)
            if play == LOSE:
                real(request)
                raise ReadTimeoutError(endpoint_url=request.url)
            status, code = play
            body = json.dumps({"__type": code, "message": "Rate exceeded"})
            return status, {"x-amzn-ErrorType": code}, body.encode()

        monkeypatch.setattr(botocore_stubber, "process_request", process)
        monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def standard_client(service: str) -> Any:
    """A client as bootstrap makes them: standard retries (3 tries)."""
    return boto3.client(service, region_name=REGION, config=Config(retries={"mode": "standard"}))


def is_submit_job(request: Any) -> bool:
    return str(request.url).endswith("/v1/submitjob")


def is_start_job_run(request: Any) -> bool:
    target = request.headers.get("X-Amz-Target", b"")
    return (target.decode() if isinstance(target, bytes) else str(target)).endswith(".StartJobRun")


def events(rt: LocalRuntime, run_id: str, *kinds: str) -> list[Any]:
    return [e for e in rt.store.list_events(run_id) if e.kind in kinds]


# ---- Batch -----------------------------------------------------------------------------


def test_a_throttled_submit_job_is_given_back_and_spends_no_retry(
    rt: LocalRuntime, batch: Refusing
) -> None:
    rt.push(one_step("b", {**BATCH_STEP, "retries": 0, "concurrency": {"key": "gpu", "limit": 1}}))
    run = rt.start_run("b")
    batch.refuse["submit_job"] = 2
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert record.retry_counts == {give_backs_counter(1): 1}
    assert rt.store.permits().state("gpu").holders == {}  # released through the backoff
    (said,) = events(rt, run.run_id, "give_back")
    assert said.detail["error"].startswith("Podium.PlatformError: Batch SubmitJob: Throttling")
    assert batch_jobs(batch) == []
    rt.pump()  # given back once more, then submitted, polled, found
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1)
    assert record.retry_counts.get("platform", 0) == 0
    assert not events(rt, run.run_id, "retry", "failed")
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    assert batch.calls.count("submit_job") == 3
    (job,) = batch_jobs(batch)
    assert job["parameters"]["podium_attempt"] == f"{run.run_id}/job/1"  # the same key


def test_a_submit_job_throttled_on_every_botocore_try_is_given_back(
    rt: LocalRuntime, batch: Refusing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore retried the throttled SubmitJob itself (its error says RetryAttempts 2):
    its record of tries says all three were refused, so nothing was submitted."""
    played = Played(monkeypatch, is_submit_job)
    played.plays = [(429, "TooManyRequestsException")] * 3
    client = standard_client("batch")
    rt.services.jobs = {"batch_job": BatchJobs(client)}
    rt.push(one_step("b", {**BATCH_STEP, "retries": 0}))
    run = rt.start_run("b")
    rt.pump(wait=False)
    assert played.tries == 3
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert batch_jobs(batch) == []
    rt.pump()
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1)
    assert record.retry_counts.get("platform", 0) == 0
    assert len(batch_jobs(batch)) == 1


def test_a_submit_job_accepted_then_answered_throttled_is_polled_and_not_submitted_again(
    rt: LocalRuntime, batch: Refusing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's first try was accepted and its answer lost (a read timeout); its
    retries were throttled. The job exists and no listing is proof it does not, so the
    attempt is not given back: it polls, holding its permit, and finds the job."""
    played = Played(monkeypatch, is_submit_job)
    played.plays = [LOSE, (429, "TooManyRequestsException"), (429, "TooManyRequestsException")]
    client = standard_client("batch")
    rt.services.jobs = {"batch_job": BatchJobs(client)}
    rt.push(one_step("b", {**BATCH_STEP, "concurrency": {"key": "gpu", "limit": 1}}))
    run = rt.start_run("b")
    rt.pump(wait=False)
    assert played.tries == 3
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert list(rt.store.permits().state("gpu").holders) == [f"{run.run_id}/job"]
    assert not events(rt, run.run_id, "give_back")
    rt.pump()
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1)
    assert played.tries == 3  # never submitted again
    (job,) = batch_jobs(batch)
    assert job["parameters"]["podium_attempt"] == f"{run.run_id}/job/1"


# ---- Glue ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "ConcurrentRunsExceededException",
        "ResourceNumberLimitExceededException",  # the account's concurrent job runs
    ],
)
def test_a_refused_start_job_run_is_given_back_and_spends_no_retry(
    rt: LocalRuntime, glue: Refusing, code: str
) -> None:
    refusing = Refusing(glue.client, code)
    refusing.refuse["start_job_run"] = 1
    rt.services.jobs = {"glue_job": GlueJobs(refusing)}
    rt.push(one_step("g", {**GLUE_STEP, "retries": 0}))
    run = rt.start_run("g")
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert record.retry_counts == {give_backs_counter(1): 1}
    (said,) = events(rt, run.run_id, "give_back")
    assert said.detail["error"].startswith(f"Podium.PlatformError: Glue StartJobRun: {code}")
    assert glue.client.get_job_runs(JobName="etl")["JobRuns"] == []
    rt.clock.advance(60_000)  # type: ignore[union-attr]  # past the backoff
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert record.retry_counts.get("platform", 0) == 0
    assert not events(rt, run.run_id, "retry", "failed")
    assert refusing.calls.count("start_job_run") == 2
    (job_run,) = glue.client.get_job_runs(JobName="etl")["JobRuns"]  # one run in all
    assert job_run["Arguments"]["--podium-attempt"] == f"{run.run_id}/job/1"


def test_a_start_job_run_over_the_accounts_concurrent_runs_releases_its_permits(
    rt: LocalRuntime, glue: Refusing
) -> None:
    """ResourceNumberLimitExceededException (the account runs its quota of concurrent
    job runs, 50 by default): Glue started nothing. Before, it was polled, holding the
    attempt's permits while no run existed, found no run, and spent a platform retry.
    (moto's runs never end: the test stops once the run is started.)"""
    refusing = Refusing(glue.client, "ResourceNumberLimitExceededException")
    refusing.refuse["start_job_run"] = 2
    rt.services.jobs = {"glue_job": GlueJobs(refusing)}
    rt.push(one_step("g", {**GLUE_STEP, "retries": 0, "concurrency": {"key": "etl", "limit": 1}}))
    run = rt.start_run("g")
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert rt.store.permits().state("etl").holders == {}  # released through the backoff
    (said,) = events(rt, run.run_id, "give_back")
    assert "ResourceNumberLimitExceededException" in said.detail["error"]
    assert glue.client.get_job_runs(JobName="etl")["JobRuns"] == []
    for _ in range(2):  # given back once more, then started under the same key
        rt.clock.advance(60_000)  # type: ignore[union-attr]  # past the backoff
        rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert list(rt.store.permits().state("etl").holders) == [f"{run.run_id}/job"]
    assert record.retry_counts.get("platform", 0) == 0
    assert not events(rt, run.run_id, "retry", "failed")
    assert len(events(rt, run.run_id, "give_back")) == 2
    assert refusing.calls.count("start_job_run") == 3
    (job_run,) = glue.client.get_job_runs(JobName="etl")["JobRuns"]
    assert job_run["Arguments"]["--podium-attempt"] == f"{run.run_id}/job/1"


def glue_request() -> JobRequest:
    spec = validate_definition(one_step("g", GLUE_STEP)).steps[0]
    return JobRequest("glue_job", "01KDVDNA007QWMT4HMQ12H9J47/job/1", spec, {})


@pytest.mark.parametrize(
    ("plays", "tries"),
    [
        pytest.param([(400, "ThrottlingException")] * 3, 3, id="throttled_on_every_botocore_try"),
        # botocore does not retry it: its one try was refused
        pytest.param(
            [(400, "ResourceNumberLimitExceededException")],
            1,
            id="over_the_account_limit_on_its_only_try",
        ),
    ],
)
def test_a_start_job_run_refused_on_every_try_starts_nothing(
    rt: LocalRuntime,
    glue: Refusing,
    monkeypatch: pytest.MonkeyPatch,
    plays: list[Any],
    tries: int,
) -> None:
    played = Played(monkeypatch, is_start_job_run)
    played.plays = list(plays)
    outcome = GlueJobs(standard_client("glue")).start(glue_request())
    assert played.tries == tries
    assert outcome.phase is Phase.NOT_STARTED and outcome.error is not None
    assert outcome.error.retryable
    assert glue.client.get_job_runs(JobName="etl")["JobRuns"] == []


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param("ConcurrentRunsExceededException", id="exceeding_concurrency"),
        pytest.param("ResourceNumberLimitExceededException", id="over_the_account_limit"),
    ],
)
def test_a_start_job_run_refused_after_a_lost_answer_is_polled(
    rt: LocalRuntime, glue: Refusing, monkeypatch: pytest.MonkeyPatch, refused: str
) -> None:
    """The first try started the run and its answer was lost; botocore's retry was
    refused because that very run fills the job's MaxConcurrentRuns (1, Glue's default),
    or because it may be what put the account at its limit. Given back, the attempt
    would rely on GetJobRuns listing the run already; polled, it finds the run, and
    starts no second one."""
    played = Played(monkeypatch, is_start_job_run)
    played.plays = [LOSE, (400, refused)]
    jobs = GlueJobs(standard_client("glue"))
    outcome = jobs.start(glue_request())
    assert played.tries == 2  # botocore retries neither refusal
    assert (outcome.phase, outcome.error) == (Phase.RUNNING, None)  # polled, not given back
    found = jobs.find(glue_request())
    (job_run,) = glue.client.get_job_runs(JobName="etl")["JobRuns"]
    assert found is not None and found.handle == job_run["Id"]


# ---- Step Functions --------------------------------------------------------------------


def is_start_execution(request: Any) -> bool:
    target = request.headers.get("X-Amz-Target", b"")
    text = target.decode() if isinstance(target, bytes) else str(target)
    return text.endswith(".StartExecution")


def sfn_request(state_machine: str) -> JobRequest:
    step = {"type": "sfn_execution", "state_machine": state_machine}
    spec = validate_definition(one_step("s", step)).steps[0]
    return JobRequest("sfn_execution", "01KDVDNA007QWMT4HMQ12H9J47/job/1", spec, {})


def state_machine() -> str:
    client = boto3.client("stepfunctions", region_name=REGION)
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    role = "arn:aws:iam::123456789012:role/podium-test"
    made = client.create_state_machine(
        name="child", definition=json.dumps(definition), roleArn=role
    )
    return str(made["stateMachineArn"])


def executions(arn: str) -> list[Any]:
    client = boto3.client("stepfunctions", region_name=REGION)
    return list(client.list_executions(stateMachineArn=arn)["executions"])


def test_a_start_execution_throttled_on_every_try_starts_nothing_and_is_given_back(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, it was polled: DescribeExecution found no execution, and the attempt
    failed as a platform error (a retry spent, a new name)."""
    arn = state_machine()
    played = Played(monkeypatch, is_start_execution)
    played.plays = [(400, "ThrottlingException")] * 3
    outcome = SfnExecutions(standard_client("stepfunctions")).start(sfn_request(arn))
    assert played.tries == 3
    assert outcome.phase is Phase.NOT_STARTED and outcome.error is not None
    assert executions(arn) == []


def test_a_start_execution_over_the_execution_limit_starts_nothing_and_is_given_back(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ExecutionLimitExceeded: the maximum number of running executions has been
    reached, so none started. Before, it was polled like a lost answer: DescribeExecution
    found no execution, and the attempt spent a platform retry (a new name)."""
    arn = state_machine()
    played = Played(monkeypatch, is_start_execution)
    played.plays = [(400, "ExecutionLimitExceeded")]
    outcome = SfnExecutions(standard_client("stepfunctions")).start(sfn_request(arn))
    assert played.tries == 1
    assert outcome.phase is Phase.NOT_STARTED and outcome.error is not None
    assert outcome.error.retryable
    assert executions(arn) == []


@pytest.mark.parametrize(
    ("refusals", "tries"),
    [
        pytest.param([(400, "ExecutionLimitExceeded")], 2, id="over_the_limit"),
        pytest.param([(400, "ThrottlingException")] * 2, 3, id="throttled"),
    ],
)
def test_a_start_execution_accepted_then_refused_is_polled_and_found(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch, refusals: list[Any], tries: int
) -> None:
    arn = state_machine()
    played = Played(monkeypatch, is_start_execution)
    played.plays = [LOSE, *refusals]
    jobs = SfnExecutions(standard_client("stepfunctions"))
    outcome = jobs.start(sfn_request(arn))
    assert played.tries == tries
    assert outcome.phase is Phase.RUNNING and outcome.error is None  # polled, not given back
    (execution,) = executions(arn)
    found = jobs.find(sfn_request(arn))
    assert found is not None and found.handle == execution["executionArn"]


# ---- the record of tries ---------------------------------------------------------------


def refusal(code: str, retries: int | None, status: int = 400) -> ClientError:
    metadata: dict[str, Any] = {"HTTPStatusCode": status}
    if retries is not None:
        metadata["RetryAttempts"] = retries
    return ClientError({"Error": {"Code": code, "Message": "x"}, "ResponseMetadata": metadata}, "X")


def test_a_refusal_without_a_record_of_its_tries_is_trusted_only_when_it_was_one_try() -> None:
    tries = StartTries(object(), "SubmitJob")  # no botocore events: a wrapper, a stub
    assert tries.all_refused(refusal("ThrottlingException", None))
    assert tries.all_refused(refusal("ThrottlingException", 0))
    assert tries.all_refused(refusal("ClientException", None, status=429))
    assert not tries.all_refused(refusal("ThrottlingException", 2))  # earlier tries unknown
    assert not tries.all_refused(refusal("ServerException", 0, status=500))
    assert not tries.all_refused(refusal("ConcurrentRunsExceededException", 0))  # not Batch's
    assert not tries.all_refused(ReadTimeoutError(endpoint_url="https://x"))
    assert not tries.all_refused(ValueError("a bug"))
    assert not tries.all_refused(refusal("ResourceNumberLimitExceededException", 0))
    assert not tries.all_refused(refusal("ExecutionLimitExceeded", 0))
    glue_tries = StartTries(object(), "StartJobRun", frozenset({"ConcurrentRunsExceededException"}))
    assert glue_tries.all_refused(refusal("ConcurrentRunsExceededException", 0))


class Stub:
    """A client that is not botocore's (no record of tries): its start raises ``error``,
    and it lists no work."""

    def __init__(self, error: ClientError) -> None:
        self.error = error

    def get_job_runs(self, **kwargs: Any) -> Any:
        return {"JobRuns": []}

    def start_job_run(self, **kwargs: Any) -> Any:
        raise self.error

    def start_execution(self, **kwargs: Any) -> Any:
        raise self.error

    def describe_state_machine(self, **kwargs: Any) -> Any:
        return {"type": "STANDARD"}


@pytest.mark.parametrize(
    ("code", "retries", "phase"),
    [
        ("ConcurrentRunsExceededException", 0, Phase.NOT_STARTED),
        ("ResourceNumberLimitExceededException", 0, Phase.NOT_STARTED),
        ("ResourceNumberLimitExceededException", 1, Phase.RUNNING),  # earlier try unknown
        ("EntityNotFoundException", 0, Phase.FAILED),
    ],
)
def test_what_a_refused_start_job_run_becomes(code: str, retries: int, phase: Phase) -> None:
    outcome = GlueJobs(Stub(refusal(code, retries))).start(glue_request())
    assert outcome.phase is phase


@pytest.mark.parametrize(
    ("code", "retries", "phase"),
    [
        ("ExecutionLimitExceeded", 0, Phase.NOT_STARTED),
        ("ExecutionLimitExceeded", 1, Phase.RUNNING),  # an earlier try may have started it
        # KMS throttled the execution's encryption key: nothing started (it was a config
        # error, a step failed for a throttle).
        ("KmsThrottlingException", 0, Phase.NOT_STARTED),
        ("KmsThrottlingException", 1, Phase.RUNNING),
        ("StateMachineDoesNotExist", 0, Phase.FAILED),
    ],
)
def test_what_a_refused_start_execution_becomes(code: str, retries: int, phase: Phase) -> None:
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:child"
    outcome = SfnExecutions(Stub(refusal(code, retries))).start(sfn_request(arn))
    assert outcome.phase is phase
