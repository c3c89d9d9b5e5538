"""Timers on the home's queues: a wait up to 15 minutes is a delay, as with SQS; a longer
one is one message made visible at its due time (SQS stops at 15 minutes and needs a hop
every 15 minutes; a row of the ``messages`` table does not).

A long wait's message keeps its due time (``nb``), so a receiver whose clock is behind
(another process, another virtual clock) defers it again rather than acting early.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.adapters.queues import SQS_MAX_DELAY_SECONDS
from podium.adapters.sqlite.queue import SqliteQueue
from podium.core.ports import Clock


class SqliteTimers:
    def __init__(self, work: SqliteQueue, events: SqliteQueue, clock: Clock) -> None:
        self._queues = {"work": work, "events": events}
        self._clock = clock

    def schedule(self, message: Mapping[str, Any], due_ms: int, *, queue: str, dedup: str) -> None:
        # ``dedup`` only saves work (a timer firing twice is harmless): not kept.
        target = self._queues[queue]
        delay = max(0, -(-(due_ms - self._clock.now_ms()) // 1000))
        if delay <= SQS_MAX_DELAY_SECONDS:
            target.send(dict(message), delay)  # as QueueTimers: an SQS-like delay
        else:
            target.send_at({**message, "nb": due_ms}, due_ms)

    def cancel(self, *, dedup: str, due_ms: int, set_ms: int | None = None) -> None:
        # Rows keep no dedup key: like an SQS delay, the message arrives and its receiver
        # finds the attempt closed (the contract's best effort).
        return None
