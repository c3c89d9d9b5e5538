"""A batch_job attempt ended by its Batch state-change event ended otherwise than the
same job read by a poll: the event's detail was trimmed (service/external_events.py
``_batch_trim``) to its status, reason and single ``container``, dropping
``isTerminated``/``isCancelled`` and a multi-container job's containers
(``ecsProperties``), which ``batch_job_outcome`` reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.batch import BatchJobs
from podium.core.engine.external import batch_job_outcome
from podium.core.engine.status import StepStatus
from podium.handlers import events as events_handler
from podium.local.runtime import LocalRuntime
from podium.service.external_events import _batch_trim

from .test_aws_jobs import moto_batch_queue

REGION = "us-east-1"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime, moto_batch_queue() as client:
        runtime.services.jobs = {"batch_job": BatchJobs(client)}
        runtime.batch = client  # type: ignore[attr-defined]
        yield runtime


def started(rt: LocalRuntime) -> tuple[str, dict[str, Any]]:
    rt.push(
        {
            "name": "b",
            "steps": [
                {
                    "id": "job",
                    "type": "batch_job",
                    "job_queue": "podium-q",
                    "job_definition": "features",
                }
            ],
        }
    )
    run = rt.start_run("b")
    rt.pump(wait=False)
    batch: Any = rt.batch  # type: ignore[attr-defined]
    (summary,) = batch.list_jobs(
        jobQueue="podium-q", filters=[{"name": "JOB_NAME", "values": ["*"]}]
    )["jobSummaryList"]
    return run.run_id, batch.describe_jobs(jobs=[summary["jobId"]])["jobs"][0]


def deliver(rt: LocalRuntime, job: dict[str, Any], **detail: Any) -> None:
    event = {
        "version": "0",
        "id": "e",
        "source": "aws.batch",
        "detail-type": "Batch Job State Change",
        "account": DEFAULT_ACCOUNT_ID,
        "region": REGION,
        "time": "2026-12-01T00:00:00Z",
        "resources": [],
        "detail": {
            "jobId": job["jobId"],
            "jobName": job["jobName"],
            "jobQueue": job["jobQueue"],
            "tags": job["tags"],
            "parameters": job["parameters"],
            **detail,
        },
    }
    events_handler.handler(event, None)
    rt.pump(wait=False)


def failed_by_its_event(rt: LocalRuntime, reason: str, **detail: Any) -> Any:
    """Starts the step's job and delivers its event: FAILED for ``reason``, with
    ``detail``; gives the step's record."""
    run_id, job = started(rt)
    deliver(rt, job, status="FAILED", statusReason=reason, **detail)
    record = rt.store.get_step(run_id, "job")
    assert record is not None
    return record


def test_a_job_an_operator_terminated_is_stopped_when_its_event_says_so(
    rt: LocalRuntime,
) -> None:
    """An operator terminated the step's Batch job ("bad input file", in the console):
    its event said ``isTerminated: true``, container exit 143. The step failed as
    Podium.UserError "the job's container exited with code 143", blaming the code (and
    a retry policy on UserError submitted the job again), because the trim dropped
    ``isTerminated``; the same job found by a poll was Podium.Stopped, not retried, as
    docs (External work) say."""
    record = failed_by_its_event(
        rt,
        "bad input file",
        isTerminated=True,
        container={"exitCode": 143, "logStreamName": "features/default/abc"},
    )
    assert record is not None and record.status is not StepStatus.RUNNING
    assert record.error_type == "Podium.Stopped", (record.error_type, record.error)


def test_a_multi_container_jobs_exit_code_is_read_from_its_event(rt: LocalRuntime) -> None:
    """A multi-container Batch job (``ecsProperties``) whose code exited 3 ended by its
    event as "failed without an exit code", a retryable Podium.PlatformError (the
    user's failing code was submitted again up to the platform budget), because the
    trimmed event kept only ``container``; read by a poll the same job was
    Podium.UserError "exited with code 3", as docs (External work, batch_job) say."""
    record = failed_by_its_event(
        rt,
        "Essential container in task exited",
        ecsProperties={"taskProperties": [{"containers": [{"name": "main", "exitCode": 3}]}]},
    )
    assert record.error_type == "Podium.UserError", (record.status, record.error)
    assert "exited with code 3" in (record.error or "")


def test_a_cancelled_jobs_event_is_stopped_too(rt: LocalRuntime) -> None:
    """A job cancelled before it ran (``isCancelled: true``, no exit code) ended by its
    event as "failed without an exit code", a retryable platform error that submitted
    it again: the trim dropped ``isCancelled`` too."""
    record = failed_by_its_event(rt, "not needed", isCancelled=True)
    assert record.error_type == "Podium.Stopped", (record.error_type, record.error)


def test_the_last_attempts_exit_code_is_read_from_the_event(rt: LocalRuntime) -> None:
    """A job whose exit code only its ``attempts`` carry (its top-level container has
    none) ended by its event as "failed without an exit code": the trim dropped
    ``attempts``, which the poll's DescribeJobs read gives."""
    record = failed_by_its_event(
        rt,
        "Essential container in task exited",
        container={"logStreamName": "features/default/abc"},
        attempts=[
            {"container": {"exitCode": 1, "reason": "oom?"}},
            {"container": {"exitCode": 4, "logStreamName": "features/default/abc"}},
        ],
    )
    assert record.error_type == "Podium.UserError", (record.status, record.error)
    assert "exited with code 4" in (record.error or ""), record.error


@pytest.mark.parametrize(
    "shape",
    [
        {"ecsProperties": "x"},
        {"ecsProperties": {"taskProperties": 5}},
        {"ecsProperties": {"taskProperties": [1, {"containers": "x"}]}},
        {"taskProperties": [{"containers": [1]}]},
        {"attempts": [1, {"container": 2}]},
        {"attempts": "x"},
    ],
)
def test_a_malformed_batch_detail_is_trimmed_not_raised(shape: dict[str, Any]) -> None:
    """The trim reads nested parts of the detail: none of their wrong shapes raises (an
    error would fail the events function, and EventBridge retry the event in vain)."""
    trimmed = _batch_trim({"jobId": "j", "status": "FAILED", **shape})
    assert trimmed["jobId"] == "j"
    batch_job_outcome(trimmed)
