"""The root of Podium's error hierarchy, and the exception users raise in their steps.

Every error Podium raises derives from ``PodiumError``: the store's conflicts and
not-found errors (core/engine/errors.py), definition errors and expression errors.
"""

from __future__ import annotations


class PodiumError(Exception):
    """Any error raised by Podium itself."""


class NonRetryable(Exception):
    """Raise it from a step's function to fail the attempt for good: no retry policy
    applies (the data is bad, not the weather)."""
