"""A watchdog for tests that may hang: a hang fails the test instead of stalling the suite.

The alarm raises ``TimeoutError`` wherever the test is. Python loses a raise that lands in
a callback it reports as "unraisable" (hypothesis's gc hooks, a ``__del__``), so the alarm
comes back every ``again_every`` seconds until one lands where the test sees it, and the
test fails on leaving the watchdog whenever the alarm fired, even if every raise was lost.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import pytest


@contextmanager
def hang_watchdog(seconds: float, *, again_every: float = 1.0) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):
        yield
        return
    fired = 0

    def expired(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        fired += 1
        signal.setitimer(signal.ITIMER_REAL, again_every)
        raise TimeoutError(f"still running after {seconds:g} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    if fired:
        pytest.fail(
            f"ran past its {seconds:g} s watchdog ({fired} alarm(s); the raise was lost "
            "where the test could not see it)",
            pytrace=False,
        )
