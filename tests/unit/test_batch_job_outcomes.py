"""how the external job backends read AWS Batch's answers
(core/engine/external.py ``batch_job_outcome``, used by adapters/jobs/batch.py for
DescribeJobs and by the "Batch Job State Change" events, which share the shape).

Found by a review; each test failed before its fix (its docstring says what was
wrong and what is right)."""

from __future__ import annotations

from podium.core.engine.external import Phase, batch_job_outcome
from podium.core.engine.retry import plan_retry


def test_a_batch_job_terminated_while_running_is_stopped_not_a_user_error() -> None:
    """docs (External work) say a terminated batch_job is ``Podium.Stopped``. A job
    someone terminated while it ran (TerminateJob, the console's Terminate) ends FAILED
    with ``isTerminated: true`` and its container signalled (exit code 143 or 137),
    but batch_job_outcome (external.py:356) reads the exit code before anything else
    and returns ``Podium.UserError`` ("the job's container exited with code 143"),
    blaming the user's code. ECS reads its stop code first for exactly this reason
    (external.py ecs_task_outcome). Right: a job with ``isTerminated`` (or the
    terminate reason) is Podium.Stopped, not retryable, whatever its exit code."""
    job = {
        "jobId": "j-1",
        "jobName": "n",
        "status": "FAILED",
        "isTerminated": True,
        "statusReason": "Terminated by user",
        "container": {"exitCode": 143, "logStreamName": "s"},
    }
    outcome = batch_job_outcome(job)
    assert outcome.error is not None
    assert outcome.error.type == "Podium.Stopped", outcome.error
    assert not outcome.error.retryable


def test_a_batch_job_cancelled_with_its_own_reason_is_not_retried_as_a_platform_error() -> None:
    """a job an operator cancelled or terminated (``isCancelled`` /
    ``isTerminated`` true in DescribeJobs and in the event) is recognised only when
    its free-text ``statusReason`` contains one of three English phrases
    (external.py:331 _BATCH_STOPPED_HINTS). With any other reason ("wrong input
    file") and no exit code it reads as "failed without an exit code": a
    Podium.PlatformError, which the default platform budget retries up to 10 times,
    so Podium re-submits a job a person deliberately cancelled. Right: read
    ``isCancelled`` / ``isTerminated``: Podium.Stopped, not retried."""
    job = {
        "jobId": "j-2",
        "jobName": "n",
        "status": "FAILED",
        "isCancelled": True,
        "statusReason": "wrong input file",
    }
    outcome = batch_job_outcome(job)
    assert outcome.error is not None
    assert outcome.error.type == "Podium.Stopped", outcome.error
    assert plan_retry((), outcome.error, 1, {}, "r/s/1") is None


def test_a_multi_container_batch_job_exit_code_is_read() -> None:
    """a job whose definition uses ``ecsProperties`` (Batch's multi-container jobs)
    reports its exit codes under ``ecsProperties.taskProperties[].containers[]`` and
    ``attempts[].taskProperties[].containers[]``, not under ``container``;
    batch_job_outcome (external.py:340-346) looks only at ``container`` and
    ``attempts[-1].container``, so a job whose code exited 2 is "failed without an
    exit code", a Podium.PlatformError retried up to 10 times (the user's bug run 11
    times), and a successful one has no ``exit_code`` in its output. Right: read the
    exit code (and log stream) of the task's containers too: here a Podium.UserError
    naming exit code 2, not retried by default."""
    job = {
        "jobId": "j-3",
        "jobName": "n",
        "status": "FAILED",
        "statusReason": "Essential container in task exited",
        "ecsProperties": {
            "taskProperties": [
                {"containers": [{"name": "main", "exitCode": 2, "logStreamName": "x/main/1"}]}
            ]
        },
        "attempts": [
            {
                "taskProperties": [{"containers": [{"name": "main", "exitCode": 2, "reason": ""}]}],
                "statusReason": "Essential container in task exited",
            }
        ],
    }
    outcome = batch_job_outcome(job)
    assert outcome.phase is Phase.FAILED
    assert outcome.error is not None
    assert outcome.error.type == "Podium.UserError", outcome.error
    assert outcome.output.get("exit_code") == 2
