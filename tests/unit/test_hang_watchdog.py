"""The property tests' watchdog fails a test that ran past it, even when its raise
landed where Python could only report it as unraisable (session 19's final CI: the
`TimeoutError` fired inside hypothesis's gc callback and the test passed)."""

from __future__ import annotations

import time

import pytest

from tests.property.watchdog import hang_watchdog


def _sleep_swallowing_timeouts(seconds: float) -> int:
    """Sleep, losing every watchdog raise (as an unraisable callback would)."""
    lost = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            time.sleep(0.005)
        except TimeoutError:
            lost += 1
    return lost


def test_a_lost_raise_still_fails_the_test() -> None:
    with (
        pytest.raises(pytest.fail.Exception, match=r"ran past its 0\.05 s watchdog"),
        hang_watchdog(0.05, again_every=60),
    ):
        assert _sleep_swallowing_timeouts(0.3) == 1


def test_the_alarm_comes_back_until_a_raise_lands() -> None:
    started = time.monotonic()
    with (
        pytest.raises(TimeoutError, match=r"still running after 0\.05 s"),
        hang_watchdog(0.05, again_every=0.05),
    ):
        _sleep_swallowing_timeouts(0.2)  # the first raises are lost
        while True:  # a hang: the next alarm's raise lands here
            time.sleep(0.005)
    assert time.monotonic() - started < 5


def test_a_quick_body_is_left_alone() -> None:
    with hang_watchdog(5):
        pass
