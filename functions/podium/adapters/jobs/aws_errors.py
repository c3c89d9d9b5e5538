"""The code, message and HTTP status of a failed AWS call (botocore's ClientError, or a
connection error without a code)."""

from __future__ import annotations

import logging
from typing import Any

from podium.core.engine.external import JobOutcome, Phase, api_error, is_transient, running
from podium.core.engine.step_error import StepError

log = logging.getLogger("podium.jobs")


def code_of(exc: BaseException) -> tuple[str, str]:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return str(error.get("Code", "")), str(error.get("Message", "") or exc)
    return "", str(exc)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of the service's answer (None: no answer, a connection error)."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def is_api_error(exc: BaseException) -> bool:
    """botocore's errors (ClientError, connection and endpoint errors), not our bugs."""
    return type(exc).__module__.startswith(("botocore", "urllib3"))


def is_transient_error(exc: BaseException) -> bool:
    """An API error that may pass (throttling, the service's fault, a lost answer)."""
    return is_api_error(exc) and is_transient(code_of(exc)[0], status_of(exc))


def error_of(service: str, exc: BaseException) -> StepError:
    """The step error of a failed call (core.engine.external.api_error's classes)."""
    code, message = code_of(exc)
    return api_error(service, code, message, status_of(exc))


def start_failed(service: str, exc: BaseException) -> JobOutcome:
    """A start that raised. A transient failure may come after the service acted (its
    answer lost to a read timeout or a 5xx, or botocore's retry of an accepted call
    throttled): the work may exist under the attempt's key. It is reported running,
    without a handle, so the runtime polls it and ``find`` by the key settles it: the
    work if it started, else a platform error (not found) that retries the step. Failing
    it here would retry it under a new key, and the work started would run unseen and
    never be stopped. A permanent failure (access denied, unknown resource) fails."""
    if not is_api_error(exc):
        raise exc
    if is_transient_error(exc):
        log.warning("%s failed, the attempt polls for its work: %s", service, exc)
        return running()
    return JobOutcome(Phase.FAILED, error=error_of(service, exc))


def asked_failed(service: str, exc: BaseException) -> JobOutcome:
    """A Describe/List call that raised while finding the work: a transient failure
    says nothing about the work (ask again later: running); a permanent one fails."""
    if not is_api_error(exc):
        raise exc
    error = error_of(service, exc)
    return running() if error.retryable else JobOutcome(Phase.FAILED, error=error)


def lookup_failed(service: str, exc: BaseException) -> JobOutcome:
    """The look-up a start makes before it submits (is the attempt's work there
    already?) raised, so nothing was submitted. A transient failure (throttled, the
    service unavailable) is NOT_STARTED: the attempt is given back and starts again
    later under the same key, on no retry budget, since nothing happened (the error is
    what it becomes once its give-backs are used up). A permanent one fails as a
    configuration error. Submitting without the look-up could start the work twice;
    reporting it running (as ``asked_failed`` does for a poll) would start nothing and
    leave the attempt to a poll that finds nothing."""
    if not is_api_error(exc):
        raise exc
    code, message = code_of(exc)
    log.warning("%s failed before the start, nothing started: %s", service, exc)
    error = api_error(service, code, f"{message} (nothing was started)", status_of(exc))
    phase = Phase.NOT_STARTED if error.retryable else Phase.FAILED
    return JobOutcome(phase, error=error)


# Codes (with HTTP 429) of a call the service refused for its rate: it answered, and
# did not act on this try.
_THROTTLED_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)


def is_throttled_error(exc: BaseException) -> bool:
    """The service refused the call as throttled (not a 5xx or a lost answer, after
    which it may have acted)."""
    if not is_api_error(exc):
        return False
    return code_of(exc)[0] in _THROTTLED_CODES or status_of(exc) == 429


def throttled_start(service: str, exc: BaseException) -> JobOutcome:
    """A start the service refused as throttled, made under an idempotency token that
    is the attempt's (ECS RunTask's clientToken): NOT_STARTED, so the attempt is given
    back and asks again after a backoff, under the same key and so the same token. An
    earlier try of the same call that botocore retried may have been accepted after
    all; asked again with its token, the service answers with the work it started then,
    and the look-up the start makes first (by the attempt key) finds it too."""
    code, message = code_of(exc)
    log.warning("%s throttled, the attempt is given back: %s", service, exc)
    return JobOutcome(Phase.NOT_STARTED, error=api_error(service, code, message, status_of(exc)))


def raise_if_transient(exc: BaseException) -> None:
    """A stop that failed: re-raised when the service was throttled or down (or the
    answer was lost), so the caller retries it; logged and dropped when the service
    refused it for good (the work ended or never started, which is what a stop wants;
    or access denied, which no retry fixes)."""
    if not is_api_error(exc) or is_transient_error(exc):
        raise exc
    log.warning("stop refused, not retried: %s", exc)
