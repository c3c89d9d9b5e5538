"""An http step whose auth secret Secrets Manager refused for good (other than
ResourceNotFound/AccessDenied) was left RUNNING, with an unhandled exception.

adapters/http_transport.SecretsManagerSecrets.get turned only ResourceNotFoundException
and AccessDeniedException into SecretNotFound; everything else was re-raised, and
service/runtimes/http.HttpRuntime.start caught only SecretNotFound. A secret scheduled
for deletion (InvalidRequestException: "marked deleted"), one whose KMS key the role
cannot use (DecryptionFailure) or a bad name (InvalidParameterException) escaped the
runtime: the work message failed, the attempt stayed RUNNING with no error, and only the
sweeper's lease (16 minutes) later ended it as a lost worker (Podium.PlatformError),
retried on the platform budget: hours of retries that never named the secret, for a
configuration that no retry fixes. A throttled lookup escaped the same way.

Expected: a refusal for good fails the step at once with Podium.ConfigError, not
retried, naming the secret and Secrets Manager's reason (never the value); a throttled
or 5xx lookup fails the attempt as a retryable Podium.PlatformError.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import SecretsManagerSecrets, StdlibHttpTransport
from podium.core.engine.status import StepStatus
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_secret_marked_for_deletion_fails_the_step_as_a_config_error(rt: LocalRuntime) -> None:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.create_secret(Name="warehouse/token", SecretString="s3cr3t-value")
    secrets.delete_secret(SecretId="warehouse/token", RecoveryWindowInDays=7)
    rt.services.http = HttpAccess(
        StdlibHttpTransport(), frozenset({"127.0.0.1"}), SecretsManagerSecrets(secrets)
    )
    view = rt.run(
        {
            "name": "secret_deleted",
            "steps": [
                {
                    "id": "c",
                    "type": "http",
                    # Never called: the secret is read before the request is made.
                    "url": "http://127.0.0.1:9/refresh",
                    "auth": {"secret": "warehouse/token"},
                }
            ],
        }
    )
    (step,) = view.steps
    # Was: RUNNING, no error (InvalidRequestException raised out of the runtime).
    assert step.status is StepStatus.FAILED, (step.status, step.error)
    assert step.error_type == "Podium.ConfigError", step.error
    assert "warehouse/token" in (step.error or "")


class _Throttled:
    """A Secrets Manager client that is throttled on every call."""

    def get_secret_value(self, **kwargs: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "GetSecretValue",
        )


def test_a_throttled_secret_lookup_is_a_retryable_platform_error(rt: LocalRuntime) -> None:
    rt.services.http = HttpAccess(
        StdlibHttpTransport(), frozenset({"127.0.0.1"}), SecretsManagerSecrets(_Throttled())
    )
    run = rt.start_run(
        rt.push(
            {
                "name": "secret_throttled",
                "steps": [
                    {
                        "id": "c",
                        "type": "http",
                        "url": "http://127.0.0.1:9/refresh",
                        "auth": {"secret": "warehouse/token"},
                        "retries": 0,
                    }
                ],
            }
        )
    )
    rt.pump(wait=False)
    (step,) = rt.describe(run.run_id).steps
    # Was: RUNNING, no error (ThrottlingException raised out of the runtime).
    assert step.status is not StepStatus.RUNNING, step.status
    assert step.error_type == "Podium.PlatformError", step.error
    assert "warehouse/token" in (step.error or "")
