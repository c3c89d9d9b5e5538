"""The root of Podium's error hierarchy, and the exception users raise in their steps.

Every error Podium raises derives from ``PodiumError``: the store's conflicts and
not-found errors (core/engine/errors.py), definition errors and expression errors.
"""

from __future__ import annotations


class PodiumError(Exception):
    """Any error raised by Podium itself."""


class TryAgainLater(PodiumError):
    """Nothing is wrong with the request, but it cannot be served now (the local home
    is locked by another process): the API answers 503 with Retry-After."""

    code = "try_again_later"
    retry_after_seconds = 5


class EventsRefused(PodiumError):
    """EventBridge refused events put on Podium's bus (PutEvents' per-entry
    ``ErrorCode``): ``code`` and ``message`` of the first refused entry, ``count`` the
    events not put. ``retryable``: refused for a passing reason (throttled, the
    service's own fault) and still refused after the adapter's retries; otherwise for
    good (access denied, an invalid or malformed entry), raised without a retry."""

    def __init__(self, bus: str, code: str, message: str, count: int, *, retryable: bool) -> None:
        self.bus, self.code, self.message = bus, code, message
        self.count, self.retryable = count, retryable
        why = "still refused after retries" if retryable else "refused"
        super().__init__(f"EventBridge {why} {count} event(s) to {bus}: {code}: {message}")


class NonRetryable(Exception):
    """Raise it from a step's function to fail the attempt for good: no retry policy
    applies (the data is bad, not the weather)."""


# An error of this name fails its attempt for good. By name, not class: Lambda reports
# an error by its class's name alone, so a deployed function's own ``NonRetryable``
# (without Podium installed) counts, and a subclass, reported by its own name, does not;
# a local function is judged the same way.
NON_RETRYABLE = NonRetryable.__name__


def non_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` fails its attempt for good, as Lambda would report it."""
    return type(exc).__name__ == NON_RETRYABLE
