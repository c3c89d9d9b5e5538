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


def test_a_fractional_delay_is_rounded_half_up_and_never_to_none() -> None:
    """Delays are whole seconds: Python's round took a 500 ms interval to 0 (no wait at
    all) and 2.5 s to 2 (banker's rounding). Half up now, and at least a second when
    a wait was asked for; no wait stays none."""
    assert delay_of(Budget(3, 0.5, 1.0, None, False), 0, "r/s/1") == 1
    assert delay_of(Budget(3, 2.5, 1.0, None, False), 0, "r/s/1") == 3
    assert delay_of(Budget(3, 1.4, 1.0, None, False), 0, "r/s/1") == 1
    assert delay_of(Budget(3, 0.0, 1.0, None, False), 0, "r/s/1") == 0


def test_a_boolean_backoff_rate_is_refused() -> None:
    """``backoff_rate: true`` was read as the rate 1.0: refused, naming it."""
    import pytest

    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import load_definition

    with pytest.raises(DefinitionError) as info:
        load_definition(
            "name: w\nsteps:\n  - id: a\n    type: noop\n    retry:\n      - backoff_rate: true\n"
        )
    assert "backoff_rate must be a number from 1 to 10, not the boolean true" in str(info.value)
