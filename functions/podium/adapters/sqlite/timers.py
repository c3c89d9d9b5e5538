"""Timers on the home's queues: a message becomes visible at its due time, however far
ahead (SQS stops at 15 minutes; a row of the ``messages`` table does not).

The message keeps its due time (``nb``), so a receiver whose clock is behind (another
process, another virtual clock) defers it again rather than acting early.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.adapters.sqlite.queue import SqliteQueue


class SqliteTimers:
    def __init__(self, work: SqliteQueue, events: SqliteQueue) -> None:
        self._queues = {"work": work, "events": events}

    def schedule(self, message: Mapping[str, Any], due_ms: int, *, queue: str, dedup: str) -> None:
        # ``dedup`` only saves work (a timer firing twice is harmless): not kept.
        self._queues[queue].send_at({**message, "nb": due_ms}, due_ms)
