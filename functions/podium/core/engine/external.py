"""External work (an ECS task, a Batch job, a Glue job run, a Step Functions
execution): what its reported state means for the attempt that started it.

Pure: each ``*_outcome`` reads the state as the service reports it (a Describe* answer
or the detail of its state-change event, which share their shape) and says whether the
work is still going, succeeded (with the step's output) or failed (with a structured
error whose type and retryability follow Podium's classes: the user's code failing is a
user error, capacity and throttling are platform errors). ``key`` helpers turn an
attempt key into names the services accept, so a state change can be routed back to
its attempt and a lost start found again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from podium.core.engine.step_error import (
    PLATFORM_ERROR,
    STOPPED,
    TIMEOUT,
    USER_ERROR,
    StepError,
)
from podium.core.text_checks import is_ascii_digits


class Phase(str, Enum):
    RUNNING = "running"  # not ended yet (or not known to have ended)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # A start that submitted nothing because the look-up it makes first (is the
    # attempt's work there already?) failed transiently: only a start returns it, with
    # the platform error it would be. The attempt is given back and started again later.
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
class JobOutcome:
    phase: Phase
    handle: str = ""  # the service's id of the work (task ARN, job id, run id, ARN)
    output: Any = field(default_factory=dict)  # the step's output once it succeeded
    error: StepError | None = None


def running(handle: str = "") -> JobOutcome:
    return JobOutcome(Phase.RUNNING, handle)


# ---- polling: the safety net behind the state-change events ---------------------------

FIRST_POLL_SECONDS = 30
MAX_POLL_SECONDS = 300


def poll_after_seconds(elapsed_ms: int) -> int:
    """When to ask the service again: events normally finish the attempt first, so the
    poll backs off with the attempt's age (30 s, then half its age, at most 5 minutes)."""
    return max(FIRST_POLL_SECONDS, min(MAX_POLL_SECONDS, elapsed_ms // 2000))


# ---- names from attempt keys -------------------------------------------------------------

_KEY = re.compile(r"^(?P<run>[^/]+)/(?P<step>.+)/(?P<attempt>[0-9]{1,4})$")
ECS_STARTED_BY = re.compile(r"^[A-Za-z0-9/_-]{1,128}$")


def parse_key(text: str) -> tuple[str, str, int] | None:
    """``run/step/attempt`` back into its parts (None: not an attempt key)."""
    m = _KEY.match(text or "")
    if m is None:
        return None
    return m["run"], m["step"], int(m["attempt"])


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def run_created_ms(key: str) -> int | None:
    """When the run of an attempt key was created, from its ULID (a child run's id
    starts with its root's): no attempt of it started earlier, so work older than this
    is not the attempt's. None when the run id is not a ULID (a caller's own id)."""
    root = key.split("/", 1)[0].split(".", 1)[0]
    if not _ULID.match(root):
        return None
    ms = 0
    for char in root[:10]:  # the first 48 bits: milliseconds since the epoch
        ms = ms * 32 + _CROCKFORD.index(char)
    return ms


def _plain(key: str) -> tuple[str, str, int] | None:
    """The parts of a key whose step is a plain step id (a loop iteration's steps run in
    a child run, ``<run>.<step>.<index>``; a step id holds no dot or slash)."""
    parsed = parse_key(key)
    if parsed is None or "/" in parsed[1] or "." in parsed[1]:
        return None
    return parsed


def ecs_started_by(key: str) -> str:
    """ECS ``startedBy`` (letters, digits, ``-``, ``_``, ``/``; at most 128): the attempt
    key with a child run's dots as slashes, so state-change events, which carry it, are
    routed back to the attempt; else a digest (then only polling, which lists tasks by
    it, sees the task end)."""
    parsed = _plain(key)
    if parsed is not None:
        run, step, attempt = parsed
        name = f"{run.replace('.', '/')}/{step}/{attempt}"
        if ECS_STARTED_BY.match(name):
            return name
    return "podium-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def ecs_client_token(key: str) -> str:
    """RunTask's ``clientToken`` (at most 64 characters): a digest of the attempt key, so
    a start repeated after its answer was lost is the same task, not a second one."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_of_started_by(name: str) -> str | None:
    """The attempt key an ``ecs_started_by`` name carries (None: a digest, or not ours)."""
    if not name or name.startswith("podium-"):
        return None
    parts = name.split("/")
    if len(parts) < 3 or not is_ascii_digits(parts[-1]) or not all(parts):
        return None
    return f"{'.'.join(parts[:-2])}/{parts[-2]}/{parts[-1]}"


def safe_name(key: str, limit: int) -> str:
    """A job or execution name from an attempt key: ``[A-Za-z0-9_-]``, at most ``limit``
    characters, deterministic (the same attempt always gets the same name) and distinct
    (a digest suffix keeps two keys apart when characters were replaced or cut)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", key)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{cleaned[: limit - len(digest) - 1]}-{digest}"


# ---- ECS -----------------------------------------------------------------------------

# Why a task stopped without its code deciding (stopCode): the platform's doing. Its
# containers then exit with SIGTERM's 143 or SIGKILL's 137, which are not the code's
# verdict: these codes are read before the exit codes.
_ECS_PLATFORM_STOPS = {
    "TaskFailedToStart",
    "SpotInterruption",
    "TerminationNotice",
    "ServiceSchedulerInitiated",
}
_ECS_USER_STOP = "UserInitiated"  # StopTask by someone (Podium's own stops end first)
_ECS_CAPACITY_HINTS = ("RESOURCE:", "capacity", "Capacity", "ResourceInitializationError")


def ecs_task_outcome(task: Mapping[str, Any], container: str | None = None) -> JobOutcome:
    """An ECS task (DescribeTasks, or the detail of an "ECS Task State Change" event).

    Done when ``lastStatus`` is STOPPED. A stop that was not the code's doing decides
    first, whatever the exit codes (a signalled container exits 143 or 137): the
    platform's (Spot interruption, a termination notice, the scheduler, a failed start)
    is a platform error, retryable; someone's StopTask is Podium.Stopped. Otherwise the
    named container's exit code (else every container's) decides: 0 succeeds, another
    code is a user error; no exit code at all is a platform error."""
    arn = str(task.get("taskArn", ""))
    if task.get("lastStatus") != "STOPPED":
        return running(arn)
    output = {"task_arn": arn}
    stopped = _ecs_stopped_from_outside(task, output)
    if stopped is not None:
        return JobOutcome(Phase.FAILED, arn, output, stopped)
    containers = [c for c in task.get("containers") or [] if isinstance(c, Mapping)]
    if container is not None:
        containers = [c for c in containers if c.get("name") == container] or containers
    codes = [(str(c.get("name", "")), c.get("exitCode")) for c in containers]
    reason = str(task.get("stoppedReason") or "")
    failed = [(name, code) for name, code in codes if isinstance(code, int) and code != 0]
    if failed:
        name, code = failed[0]
        detail = next(
            (str(c.get("reason")) for c in containers if c.get("name") == name and c.get("reason")),
            reason,
        )
        message = f"container '{name}' exited with code {code}" + (f": {detail}" if detail else "")
        error = StepError.of(USER_ERROR, message, details={**output, "exit_code": code})
        return JobOutcome(Phase.FAILED, arn, {**output, "exit_code": code}, error)
    if codes and all(isinstance(code, int) for _, code in codes):
        exit_code = codes[0][1]
        return JobOutcome(Phase.SUCCEEDED, arn, {**output, "exit_code": exit_code})
    stop_code = str(task.get("stopCode") or "")
    kind = PLATFORM_ERROR if not stop_code else USER_ERROR
    message = f"the task stopped without an exit code ({stop_code or 'no stop code'})"
    error = StepError.of(kind, f"{message}: {reason}" if reason else message, details=output)
    return JobOutcome(Phase.FAILED, arn, output, error)


def _ecs_stopped_from_outside(
    task: Mapping[str, Any], output: Mapping[str, Any]
) -> StepError | None:
    """The error of a task stopped by the platform or by someone (None: its code ended
    it, or ECS did not say why)."""
    stop_code = str(task.get("stopCode") or "")
    reason = str(task.get("stoppedReason") or "")
    # A "user" stop whose reason names capacity is ECS giving up on a start.
    capacity = any(hint in reason for hint in _ECS_CAPACITY_HINTS)
    if stop_code == _ECS_USER_STOP and not capacity:
        message = f"the task was stopped: {reason or 'no reason given'}"
        return StepError.of(STOPPED, message, retryable=False, details=dict(output))
    if stop_code in _ECS_PLATFORM_STOPS or stop_code == _ECS_USER_STOP:
        message = f"the task was stopped by the platform ({stop_code})"
        return StepError.of(
            PLATFORM_ERROR, f"{message}: {reason}" if reason else message, details=dict(output)
        )
    return None


def ecs_run_failures(failures: list[Mapping[str, Any]]) -> StepError:
    """RunTask answered with ``failures`` instead of a task: no capacity, an agent gone
    (platform, retryable), or a bad request (a missing task definition: not retryable)."""
    first = failures[0] if failures else {}
    reason = str(first.get("reason", "unknown"))
    detail = str(first.get("detail") or "")
    message = f"ECS could not start the task: {reason}" + (f" ({detail})" if detail else "")
    if reason.startswith(("RESOURCE", "AGENT", "ATTRIBUTE")) or "capacity" in reason.lower():
        return StepError.of(PLATFORM_ERROR, message)
    return StepError.of("Podium.ConfigError", message, retryable=False)


# ---- AWS API errors when starting or asking -------------------------------------------

# Codes that say "try again later": throttling, limits that clear as work ends, the
# service's own faults and timeouts, a concurrent change of the same resource.
_TRANSIENT_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalServiceException",
    "InternalServerException",
    "InternalFailure",
    "InternalError",
    "OperationTimeoutException",
    "RequestTimeout",
    "RequestTimeoutException",
    "ConcurrentModificationException",
    "ConcurrentRunsExceededException",
    "ResourceNumberLimitExceededException",
    "ExecutionLimitExceeded",
    "KmsThrottlingException",
    "LimitExceededException",
}


def is_transient(code: str, status: int | None = None) -> bool:
    """Throttling, limits, the service's own faults (or no code: a connection error, a
    lost answer). An HTTP 429 or 5xx is transient whatever its code: a service's newer
    or rarer codes for its own trouble are not all listed above."""
    if not code or code in _TRANSIENT_CODES:
        return True
    return status is not None and (status == 429 or status >= 500)


def api_error(service: str, code: str, message: str, status: int | None = None) -> StepError:
    """An AWS call that failed: throttling, limits and the service's own faults are
    platform errors (retried on the platform budget); anything else (access denied, an
    unknown cluster or job) is the deployment's configuration: not retryable."""
    text = f"{service}: {code}: {message}" if code else f"{service}: {message}"
    if is_transient(code, status):
        return StepError.of(PLATFORM_ERROR, text)
    return StepError.of("Podium.ConfigError", text, retryable=False, details={"code": code})


# ---- names that carry the attempt key (routed back from events) -----------------------

_DOTTED = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def dotted_name(key: str) -> str:
    """A Step Functions execution name for an attempt: ``run.step.attempt`` (a child
    run's id keeps its dots; step ids hold none), so the execution's events name their
    attempt; a key too long for 80 characters gets a digest name instead (only polling
    then sees the execution end)."""
    parsed = _plain(key)
    if parsed is not None:
        name = f"{parsed[0]}.{parsed[1]}.{parsed[2]}"
        if _DOTTED.match(name):
            return name
    return safe_name(key, 80)


def key_of_dotted(name: str) -> str | None:
    """The attempt key a ``dotted_name`` carries (None: a digest name, or not ours)."""
    parts = (name or "").split(".")
    if len(parts) < 3 or not is_ascii_digits(parts[-1]) or not all(parts):
        return None
    return f"{'.'.join(parts[:-2])}/{parts[-2]}/{parts[-1]}"


# ---- AWS Batch -----------------------------------------------------------------------

BATCH_ATTEMPT_TAG = "podium:attempt"
BATCH_ATTEMPT_PARAMETER = "podium_attempt"  # also in the event's detail (parameters)
BATCH_MAX_TAG_VALUE = 256  # a longer key is cut in the tag (not in the parameter)


def batch_attempt_key(job: Mapping[str, Any]) -> str | None:
    """The attempt key a Batch job (DescribeJobs, or a state-change event's detail) was
    submitted for: its ``podium_attempt`` parameter holds it whole; its tag only when
    the key fit there uncut (a cut key could name another attempt). None: neither."""
    parameters = job.get("parameters")
    if isinstance(parameters, Mapping) and parameters.get(BATCH_ATTEMPT_PARAMETER):
        return str(parameters[BATCH_ATTEMPT_PARAMETER])
    tags = job.get("tags")
    tag = tags.get(BATCH_ATTEMPT_TAG) if isinstance(tags, Mapping) else None
    if tag and len(str(tag)) < BATCH_MAX_TAG_VALUE:
        return str(tag)
    return None


_BATCH_RUNNING = {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"}
_BATCH_STOPPED_HINTS = ("terminated by podium", "Terminated by user", "cancelled")
# Batch's statusReason for an attempt it killed at the job's timeout.
_BATCH_TIMEOUT_HINT = "duration exceeded timeout"


def _batch_container(job: Mapping[str, Any]) -> Mapping[str, Any]:
    """The container whose exit code says how a Batch job (or one of its attempts)
    ended: ``container`` for a single-container job; for a multi-container one
    (``ecsProperties``), the first of its task's containers that exited non-zero, else
    the first that has an exit code."""
    single = job.get("container")
    if isinstance(single, Mapping):
        return single
    tasks = job.get("taskProperties")
    ecs = job.get("ecsProperties")
    if tasks is None and isinstance(ecs, Mapping):
        tasks = ecs.get("taskProperties")
    containers = [
        c
        for t in (tasks if isinstance(tasks, list) else [])
        if isinstance(t, Mapping)
        for c in (t.get("containers") or [])
        if isinstance(c, Mapping) and c.get("exitCode") is not None
    ]
    failed = [c for c in containers if c.get("exitCode") != 0]
    return (failed or containers or [{}])[0]


def batch_job_outcome(job: Mapping[str, Any]) -> JobOutcome:
    """A Batch job (DescribeJobs, or a "Batch Job State Change" event's detail)."""
    job_id = str(job.get("jobId", ""))
    status = str(job.get("status", ""))
    if status in _BATCH_RUNNING or not status:
        return running(job_id)
    container = _batch_container(job)
    attempts = [a for a in job.get("attempts") or [] if isinstance(a, Mapping)]
    last = _batch_container(attempts[-1]) if attempts else {}
    exit_code = container.get("exitCode")
    if exit_code is None:
        exit_code = last.get("exitCode")
    output: dict[str, Any] = {"job_id": job_id, "job_name": job.get("jobName")}
    if exit_code is not None:
        output["exit_code"] = exit_code
    stream = container.get("logStreamName")
    if stream:
        output["log_stream"] = stream
    if status == "SUCCEEDED":
        return JobOutcome(Phase.SUCCEEDED, job_id, output)
    reason = str(job.get("statusReason") or container.get("reason") or "")
    if _BATCH_TIMEOUT_HINT in reason:
        # Batch ended the attempt at the job's own timeout (``attemptDurationSeconds``),
        # killing its container (137): a timeout, not the code's exit nor an outage.
        error = StepError.of(TIMEOUT, f"the job passed its own Batch timeout: {reason}")
    elif job.get("isCancelled") is True or job.get("isTerminated") is True:
        # An operator (or Podium's stop) cancelled or terminated it: whatever its
        # container's signal exit (143, 137) says, the job was stopped.
        why = reason or ("cancelled" if job.get("isCancelled") is True else "terminated")
        error = StepError.of(STOPPED, f"the job was stopped: {why}", retryable=False)
    elif isinstance(exit_code, int) and exit_code != 0:
        message = f"the job's container exited with code {exit_code}" + (
            f": {reason}" if reason else ""
        )
        error = StepError.of(USER_ERROR, message, details=output)
    elif any(hint in reason for hint in _BATCH_STOPPED_HINTS):
        error = StepError.of(STOPPED, f"the job was stopped: {reason}", retryable=False)
    else:
        # No exit code: the job never ran its code (a host lost, Spot reclaimed, an
        # image that could not be pulled): the platform's doing.
        error = StepError.of(
            PLATFORM_ERROR, f"the job failed without an exit code: {reason or 'no reason'}"
        )
    return JobOutcome(Phase.FAILED, job_id, output, error)


# ---- AWS Glue ------------------------------------------------------------------------

_GLUE_RUNNING = {"STARTING", "RUNNING", "STOPPING", "WAITING"}


def glue_run_outcome(run: Mapping[str, Any]) -> JobOutcome:
    """A Glue job run (GetJobRun's JobRun, or a "Glue Job State Change" event's detail,
    whose fields are camelCase)."""
    run_id = str(run.get("Id") or run.get("jobRunId") or "")
    state = str(run.get("JobRunState") or run.get("state") or "")
    if state in _GLUE_RUNNING or not state:
        return running(run_id)
    output: dict[str, Any] = {
        "job_run_id": run_id,
        "job_name": run.get("JobName") or run.get("jobName"),
    }
    if run.get("ExecutionTime") is not None:
        output["execution_seconds"] = run.get("ExecutionTime")
    if state == "SUCCEEDED":
        return JobOutcome(Phase.SUCCEEDED, run_id, output)
    message = str(run.get("ErrorMessage") or run.get("message") or "")
    if state == "STOPPED":
        error = StepError.of(STOPPED, f"the job run was stopped {message}".strip(), retryable=False)
    elif state == "EXPIRED":
        # Glue gave up starting it (a run left WAITING for resources past the time the
        # service allows): the platform's doing, retried on the platform budget.
        error = StepError.of(
            PLATFORM_ERROR, f"the job run expired before Glue could start it {message}".strip()
        )
    elif state == "TIMEOUT":
        error = StepError.of(
            TIMEOUT, f"the job run passed the Glue job's own timeout {message}".strip()
        )
    else:  # FAILED, ERROR
        error = StepError.of(USER_ERROR, f"the job run {state}: {message or 'no message'}")
    return JobOutcome(Phase.FAILED, run_id, output, error)


# ---- Step Functions --------------------------------------------------------------------


def sfn_execution_outcome(execution: Mapping[str, Any]) -> JobOutcome:
    """A Step Functions execution (DescribeExecution, or the detail of a "Step Functions
    Execution Status Change" event). Its output is the step's output; an output the
    event left out (``outputDetails.included`` false) is read by the backend."""
    arn = str(execution.get("executionArn", ""))
    status = str(execution.get("status", ""))
    if status in ("RUNNING", "PENDING_REDRIVE") or not status:
        return running(arn)
    if status == "SUCCEEDED":
        raw = execution.get("output")
        output: Any = None
        if isinstance(raw, str) and raw:
            try:
                output = json.loads(raw)
            except ValueError:
                output = raw
        wrapped = {"execution_arn": arn, "output": output, "_has_output": raw is not None}
        return JobOutcome(Phase.SUCCEEDED, arn, wrapped)
    error_name = str(execution.get("error") or "")
    cause = str(execution.get("cause") or "")
    if status == "ABORTED":
        error = StepError.of(STOPPED, f"the execution was stopped {cause}".strip(), retryable=False)
    elif status == "TIMED_OUT":
        error = StepError.of(TIMEOUT, "the execution passed its state machine's timeout")
    else:  # FAILED: the state machine's own error name, matchable in retry policies
        error = StepError.of(
            error_name or USER_ERROR,
            cause or error_name or "the execution failed",
            details={"execution_arn": arn},
        )
    return JobOutcome(Phase.FAILED, arn, {"execution_arn": arn}, error)
