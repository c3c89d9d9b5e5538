"""A fractional ``tolerated_failures`` percentage is computed exactly. Through a float,
``floor(375 * 18.4 / 100)`` is ``floor(68.99999999999999) == 68``, while 18.4% of 375
is exactly 69: a foreach with 69 of 375 iterations failed, within its tolerance, failed
"(tolerated: 68)"."""

from __future__ import annotations

import pytest

from podium.core.engine.loops import Counts, OnFailure, plan_foreach, tolerated


@pytest.mark.parametrize(
    ("limit", "total", "exact"),
    [("18.4%", 375, 69), ("64.6%", 500, 323), ("16.4%", 750, 123), ("9.12%", 625, 57)],
)
def test_a_percentage_that_divides_exactly_tolerates_that_many(
    limit: str, total: int, exact: int
) -> None:
    assert tolerated(limit, total) == exact
    counts = Counts(total, total, total - exact, exact, 0)
    plan = plan_foreach(counts, 20, OnFailure.CONTINUE, limit)
    assert plan.finish == "ok", plan.message
    over = Counts(total, total, total - exact - 1, exact + 1, 0)
    assert plan_foreach(over, 20, OnFailure.CONTINUE, limit).finish == "failed"


@pytest.mark.parametrize(("limit", "total", "floor"), [("10%", 15, 1), ("0.5%", 100, 0)])
def test_a_percentage_rounds_down(limit: str, total: int, floor: int) -> None:
    assert tolerated(limit, total) == floor
