"""The code and message of a failed AWS call (botocore's ClientError, or a connection
error without a code)."""

from __future__ import annotations

from typing import Any


def code_of(exc: BaseException) -> tuple[str, str]:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return str(error.get("Code", "")), str(error.get("Message", "") or exc)
    return "", str(exc)


def is_api_error(exc: BaseException) -> bool:
    """botocore's errors (ClientError, connection and endpoint errors), not our bugs."""
    return type(exc).__module__.startswith(("botocore", "urllib3"))


def raise_if_transient(exc: BaseException) -> None:
    """A stop that failed: retried (re-raised, so the message comes back) when the
    service was throttled or down; dropped when it says the work is not there to stop
    (ended, or never started), which is what a stop wants."""
    from podium.core.engine.external import is_transient

    if not is_api_error(exc) or is_transient(code_of(exc)[0]):
        raise exc
