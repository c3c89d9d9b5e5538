"""A retrier without ``max_delay`` and a steep backoff (rate 10, up to 99 attempts, all
allowed) asked for waits past any date a timer can be set at (10 x 10^98 s): the retry
could not be scheduled. Every wait is capped at 30 days (MAX_RETRY_DELAY_S)."""

from __future__ import annotations

from podium.core.engine.retry import MAX_RETRY_DELAY_S, Budget, delay_of


def test_a_steep_backoff_is_capped_at_thirty_days() -> None:
    steep = Budget(99, 10.0, 10.0, None, False)
    assert delay_of(steep, 0, "r/s/1") == 10
    assert delay_of(steep, 97, "r/s/98") == MAX_RETRY_DELAY_S == 30 * 86_400
    jittered = Budget(99, 10.0, 10.0, None, True)
    assert 0 <= delay_of(jittered, 97, "r/s/98") <= MAX_RETRY_DELAY_S


def test_a_max_delay_below_the_cap_still_wins() -> None:
    capped = Budget(99, 10.0, 10.0, 300.0, False)
    assert delay_of(capped, 50, "r/s/51") == 300
