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
