"""Which ended attempts may have left external work running (core/engine/left_work.py):
the decision a start that submitted work and a poll of an ended attempt both take."""

from __future__ import annotations

import pytest

from podium.core.engine.left_work import left_work
from podium.core.engine.status import StepStatus as S


@pytest.mark.parametrize(
    ("status", "current", "attempt", "expected"),
    [
        (S.RUNNING, 2, 2, False),  # still going
        (S.SUCCEEDED, 2, 2, False),  # ended with its work
        (S.STOPPED, 2, 2, True),  # a stop ended it (its terminate may have found nothing)
        (S.TIMED_OUT, 2, 2, True),
        (S.FAILED, 2, 2, True),
        (S.RETRY_WAIT, 2, 2, True),  # failed, its retry scheduled
        (S.RUNNING, 3, 2, True),  # a later attempt runs: this one ended before it
        (S.READY, 1, 2, False),  # given back: the same attempt goes on under its key
        (None, 0, 2, False),  # no record
    ],
)
def test_left_work(status: S | None, current: int, attempt: int, expected: bool) -> None:
    assert left_work(status, current, attempt) is expected
