"""The code, message and HTTP status of a failed AWS call (botocore's ClientError, or a
connection error without a code)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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


def _is_refusal(code: str, status: int | None, refusals: frozenset[str] = frozenset()) -> bool:
    """An answer that says the service did not act: throttled (by code, or HTTP 429
    whatever the code: AWS Batch answers 429 TooManyRequestsException), or one of the
    operation's own ``refusals``."""
    return code in _THROTTLED_CODES or code in refusals or status == 429


def is_throttled_error(exc: BaseException) -> bool:
    """The service refused the call as throttled (not a 5xx or a lost answer, after
    which it may have acted)."""
    return is_api_error(exc) and _is_refusal(code_of(exc)[0], status_of(exc))


def throttled_start(service: str, exc: BaseException) -> JobOutcome:
    """A start the service refused (throttled; or one of the operation's own refusals:
    Glue's or Step Functions' running work at its limit, ``START_REFUSALS`` in glue.py
    and sfn.py) where the refusal proves that nothing started: NOT_STARTED, so the attempt is
    given back (READY, its permits released, no retry spent) and asks again after a
    backoff, under the same key. Two cases prove it:

    - the call carries an idempotency token that is the attempt's (ECS RunTask's
      clientToken): an earlier try of it that botocore retried may have been accepted
      after all, but asked again with its token the service answers with the work it
      started then, and the look-up the start makes first (by the attempt key) finds it;
    - every try botocore made of the call was refused (``StartTries.all_refused``): no
      try was accepted, so no work of the attempt exists, whatever a listing says.

    A start with no token whose tries were not all refused (a read timeout or a 5xx
    first, then throttled) may have started the work: ``start_failed`` polls for it."""
    code, message = code_of(exc)
    log.warning("%s refused, nothing started, the attempt is given back: %s", service, exc)
    return JobOutcome(Phase.NOT_STARTED, error=api_error(service, code, message, status_of(exc)))


class StartTries:
    """The answers to every try botocore makes of one start operation (a call it retries
    is several tries: a read timeout, then a throttled answer, is one call): botocore
    emits ``needs-retry.<service>.<operation>`` after each try, in the calling thread,
    whatever its retry mode, and this records, per thread, whether each try was refused
    (throttled, HTTP 429, or one of ``refusals``: the service answered and did not act).
    ``call`` makes the call; ``all_refused`` says whether every one of its tries was
    refused, so that the call started nothing. A client that is not botocore's own (a
    test's wrapper or stub answering itself) emits nothing: its error is its only try
    unless the error says botocore retried it."""

    def __init__(self, client: Any, operation: str, refusals: frozenset[str] = frozenset()):
        self._refusals = refusals
        self._local = threading.local()
        meta = getattr(client, "meta", None)
        events = getattr(meta, "events", None)
        model = getattr(meta, "service_model", None)
        if events is not None and model is not None:
            service = model.service_id.hyphenize()
            events.register(f"needs-retry.{service}.{operation}", self._tried)

    def call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        self._local.tries = []
        return method(**kwargs)

    def all_refused(self, exc: BaseException) -> bool:
        """Whether the call that raised ``exc`` was refused on every try (False when
        any try may have been accepted: no answer, a 5xx, any other error)."""
        if not is_api_error(exc) or not _is_refusal(
            code_of(exc)[0], status_of(exc), self._refusals
        ):
            return False
        tries: list[bool] = getattr(self._local, "tries", None) or []
        if tries:
            return all(tries)
        response: Any = getattr(exc, "response", None)
        metadata = (response.get("ResponseMetadata") or {}) if isinstance(response, dict) else {}
        return not metadata.get("RetryAttempts")  # retried, with no record: not known

    def _tried(self, response: Any = None, caught_exception: Any = None, **kwargs: Any) -> None:
        tries: list[bool] | None = getattr(self._local, "tries", None)
        if tries is None:
            return  # a call not made through ``call``
        refused = False
        if caught_exception is None and isinstance(response, tuple) and len(response) == 2:
            http, parsed = response
            code = str(((parsed or {}).get("Error") or {}).get("Code", ""))
            status = getattr(http, "status_code", None)
            refused = _is_refusal(code, status if isinstance(status, int) else None, self._refusals)
        tries.append(refused)  # and None returned: no say in whether botocore retries


def raise_if_transient(exc: BaseException) -> None:
    """A stop that failed: re-raised when the service was throttled or down (or the
    answer was lost), so the caller retries it; logged and dropped when the service
    refused it for good (the work ended or never started, which is what a stop wants;
    or access denied, which no retry fixes)."""
    if not is_api_error(exc) or is_transient_error(exc):
        raise exc
    log.warning("stop refused, not retried: %s", exc)
