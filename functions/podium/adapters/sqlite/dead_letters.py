"""The local home's dead-letter queues (``work-dlq``, ``event-dlq`` in its messages
table): listed, and redriven to ``work`` / ``events`` with no owner, so the next
``podium run`` or ``podium dev`` on the home adopts and delivers them."""

from __future__ import annotations

from podium.adapters.sqlite.db import Database
from podium.core.dead_letters import DeadLetter
from podium.core.ports import Clock

# dead-letter queue -> (name shown, queue it came from)
_QUEUES = {"work-dlq": ("work", "work"), "event-dlq": ("event", "events")}


class HomeDeadLetters:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock

    def _rows(self, limit: int) -> list[tuple[int, str, str]]:
        marks = ", ".join("?" * len(_QUEUES))
        with self._db.query() as conn:
            rows = conn.execute(
                f"SELECT id, queue, body FROM messages WHERE queue IN ({marks})"
                " ORDER BY id LIMIT ?",
                (*_QUEUES, limit),
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def peek(self, limit: int, *, redrivable_only: bool = False) -> list[DeadLetter]:
        # A home has no trigger dead letters: every one is redrivable.
        return [DeadLetter(_QUEUES[q][0], str(mid), body) for mid, q, body in self._rows(limit)]

    def redrive(self, limit: int) -> list[DeadLetter]:
        moved: list[DeadLetter] = []
        now = self._clock.now_ms()
        marks = ", ".join("?" * len(_QUEUES))
        with self._db.write() as conn:
            rows = conn.execute(
                f"SELECT id, queue, body FROM messages WHERE queue IN ({marks})"
                " ORDER BY id LIMIT ?",
                (*_QUEUES, limit),
            ).fetchall()
            for mid, queue, body in rows:
                conn.execute(
                    "UPDATE messages SET queue = ?, visible_at = ?, receive_count = 0,"
                    " generation = generation + 1, owner = NULL WHERE id = ? AND queue = ?",
                    (_QUEUES[queue][1], now, mid, queue),
                )
                moved.append(DeadLetter(_QUEUES[queue][0], str(mid), body))
        return moved
