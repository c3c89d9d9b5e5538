"""Which failures of AWS calls are transient (retried on the platform budget, or
polled) and which are for good: throttling, the services' faults, HTTP 429 and 5xx,
Glue's and Lambda's own transient codes; a missing Lambda function; an ECS task stopped
by the platform or by someone whatever its container's exit code (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from podium.adapters.jobs.glue import GlueJobs
from podium.adapters.runners import LambdaFunctionRunner
from podium.core.dsl.load import validate_definition
from podium.core.engine.external import (
    Phase,
    api_error,
    batch_attempt_key,
    ecs_task_outcome,
    is_transient,
)
from podium.core.ports import Invocation, JobRequest

REGION = "us-east-1"


@pytest.mark.parametrize(
    "code",
    [
        "OperationTimeoutException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "ConcurrentModificationException",
        "ThrottlingException",
        "",  # no code: a connection error, a lost answer
    ],
)
def test_transient_codes(code: str) -> None:
    assert is_transient(code)
    assert api_error("Glue StartJobRun", code, "m").type == "Podium.PlatformError"


def test_any_429_or_5xx_is_transient_and_a_4xx_is_not() -> None:
    assert is_transient("SomeNewFaultException", 503)
    assert is_transient("SomeNewLimitException", 429)
    assert not is_transient("AccessDeniedException", 400)
    refused = api_error("ECS RunTask", "AccessDeniedException", "no", 400)
    assert refused.type == "Podium.ConfigError" and not refused.retryable


def glue_start_failing(code: str) -> Any:
    """A glue_job's StartJobRun that answers ``code`` (no earlier run of the attempt)."""
    glue = boto3.client("glue", region_name=REGION)
    spec = validate_definition(
        {"name": "w", "steps": [{"id": "g", "type": "glue_job", "job_name": "etl"}]}
    ).steps[0]
    with Stubber(glue) as stub:
        stub.add_response("get_job_runs", {"JobRuns": []}, {"JobName": "etl"})
        stub.add_client_error(
            "start_job_run", service_error_code=code, service_message="m", http_status_code=400
        )
        return GlueJobs(glue).start(JobRequest("glue_job", "r/g/1", spec, {}))


def test_a_glue_operation_timeout_at_start_polls_for_the_run() -> None:
    """Transient: the run may have started (the answer was lost), so the attempt is
    not failed but polls; its run is found again by the attempt key."""
    out = glue_start_failing("OperationTimeoutException")
    assert out.phase is Phase.RUNNING and out.error is None


def test_an_access_denied_start_fails_for_good() -> None:
    out = glue_start_failing("AccessDeniedException")
    assert out.phase is Phase.FAILED and out.error is not None
    assert out.error.type == "Podium.ConfigError" and not out.error.retryable


def invoke_failing(code: str, status: int) -> object:
    client = boto3.client("lambda", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke", service_error_code=code, service_message="m", http_status_code=status
        )
        return LambdaFunctionRunner(client).invoke(Invocation("etl-fn", {}, "r/s/1"))


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ENILimitReachedException", 502),
        ("SubnetIPAddressLimitReachedException", 502),
        ("EC2UnexpectedException", 502),
        ("EFSMountTimeoutException", 408),
        ("ResourceConflictException", 409),
        ("SomeNewLambdaFault", 500),
        ("SomeNewLambdaLimit", 429),
    ],
)
def test_lambdas_transient_failures_are_platform_errors(code: str, status: int) -> None:
    result = invoke_failing(code, status)
    assert result.error_type == "Podium.PlatformError" and result.retryable  # type: ignore[attr-defined]


def test_a_lambda_5xx_about_its_configuration_is_not_retried() -> None:
    result = invoke_failing("KMSAccessDeniedException", 502)
    assert result.error_type == "KMSAccessDeniedException"  # type: ignore[attr-defined]
    assert not result.retryable  # type: ignore[attr-defined]


def test_a_missing_lambda_function_is_podium_function_not_found() -> None:
    result = invoke_failing("ResourceNotFoundException", 404)
    assert result.error_type == "Podium.FunctionNotFound"  # type: ignore[attr-defined]
    assert not result.retryable  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("stop_code", "exit_code", "error_type"),
    [
        # Stopped by the platform: ECS's SIGTERM/SIGKILL gave the exit code, not the code.
        ("SpotInterruption", 143, "Podium.PlatformError"),
        ("SpotInterruption", 137, "Podium.PlatformError"),
        ("TerminationNotice", 143, "Podium.PlatformError"),
        ("TerminationNotice", 137, "Podium.PlatformError"),
        ("UserInitiated", 143, "Podium.Stopped"),  # someone stopped it
        ("EssentialContainerExited", 143, "Podium.UserError"),  # its own code failed
    ],
)
def test_an_ecs_tasks_stop_code_is_read_before_its_exit_code(
    stop_code: str, exit_code: int, error_type: str
) -> None:
    task = {
        "taskArn": "t",
        "lastStatus": "STOPPED",
        "stopCode": stop_code,
        "stoppedReason": "Your Spot Task was interrupted.",
        "containers": [{"name": "trainer", "exitCode": exit_code}],
    }
    out = ecs_task_outcome(task, "trainer")
    assert out.error is not None and out.error.type == error_type
    if error_type == "Podium.PlatformError":
        assert out.error.retryable


def test_a_batch_jobs_attempt_is_its_parameter_not_its_cut_tag() -> None:
    long_key = "r" * 300 + "/s/1"
    job = {
        "parameters": {"podium_attempt": long_key},
        "tags": {"podium:attempt": long_key[:256]},
    }
    assert batch_attempt_key(job) == long_key
    assert batch_attempt_key({"tags": {"podium:attempt": long_key[:256]}}) is None
    assert batch_attempt_key({"tags": {"podium:attempt": "r/s/1"}}) == "r/s/1"
