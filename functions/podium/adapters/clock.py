"""Clocks and id generation: injected into the engine, never read inside core."""

from __future__ import annotations

import os
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock tests and the embedded runtime move by hand (sleeps cost no real time)."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:  # 2026-01-01T00:00Z
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def advance_to(self, ms: int) -> None:
        with self._lock:
            self._now = max(self._now, ms)

    def advance(self, ms: int) -> None:
        with self._lock:
            self._now += ms


class FastForwardClock:
    """Real time that jumps over waits: the embedded runtime's default.

    Durations of real work are measured truly, while a sleep step or a retry delay is
    skipped by moving an offset forward instead of waiting."""

    def __init__(self) -> None:
        self._offset = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self._offset

    def advance_to(self, ms: int) -> None:
        with self._lock:
            now = self.now_ms()
            if ms > now:
                self._offset += ms - now


class UlidGenerator:
    """ULIDs: 48 bits of milliseconds then 80 random bits, Crockford base32 (26 chars).

    Time-ordered, so run ids sort by creation time."""

    def __init__(self, clock: SystemClock | ManualClock | FastForwardClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last = (0, 0)

    def new_id(self) -> str:
        # Monotonic within a process: ids made in the same millisecond still sort in the
        # order they were made, so queues keyed by id keep arrival order.
        with self._lock:
            ms = self._clock.now_ms()
            last_ms, last_rand = self._last
            rand = last_rand + 1 if ms <= last_ms else int.from_bytes(os.urandom(10), "big") >> 1
            ms = max(ms, last_ms)
            self._last = (ms, rand)
        value = (ms << 80) | (rand & ((1 << 80) - 1))
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))
