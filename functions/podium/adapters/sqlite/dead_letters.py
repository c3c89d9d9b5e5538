"""The local home's dead-letter queues (``work-dlq``, ``event-dlq`` in its messages
table): listed, redriven to ``work`` / ``events`` with no owner, so the next
``podium run`` or ``podium dev`` on the home adopts and delivers them, and purged."""

from __future__ import annotations

from podium.adapters.sqlite.db import Database
from podium.core.dead_letters import DeadLetter, DeadLetterCount, share_limit
from podium.core.ports import Clock

# dead-letter queue -> (name shown, queue it came from)
_QUEUES = {"work-dlq": ("work", "work"), "event-dlq": ("event", "events")}
_BY_NAME = {shown: dlq for dlq, (shown, _) in _QUEUES.items()}


class HomeDeadLetters:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db, self._clock = db, clock

    def counts(self) -> list[DeadLetterCount]:
        # Nothing receives from a home's DLQs: none is ever in flight.
        marks = ", ".join("?" * len(_QUEUES))
        with self._db.query() as conn:
            rows = conn.execute(
                f"SELECT queue, COUNT(*) FROM messages WHERE queue IN ({marks}) GROUP BY queue",
                tuple(_QUEUES),
            ).fetchall()
        held = {str(q): int(n) for q, n in rows}
        return sorted(
            (DeadLetterCount(shown, held.get(dlq, 0)) for dlq, (shown, _) in _QUEUES.items()),
            key=lambda c: c.queue,
        )

    def _rows(self, dlq: str, limit: int) -> list[tuple[int, str]]:
        with self._db.query() as conn:
            rows = conn.execute(
                "SELECT id, body FROM messages WHERE queue = ? ORDER BY id LIMIT ?",
                (dlq, limit),
            ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def peek(self, limit: int, *, redrivable_only: bool = False) -> list[DeadLetter]:
        # A home has no trigger dead letters: every one is redrivable.
        quota = share_limit(limit, {c.queue: c.waiting for c in self.counts()})
        return [
            DeadLetter(shown, str(mid), body)
            for shown, n in sorted(quota.items())
            for mid, body in self._rows(_BY_NAME[shown], n)
        ]

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

    def purge(self, queue: str, limit: int) -> list[DeadLetter]:
        dlq = _BY_NAME[queue]
        with self._db.write() as conn:
            rows = conn.execute(
                "SELECT id, body FROM messages WHERE queue = ? ORDER BY id LIMIT ?",
                (dlq, limit),
            ).fetchall()
            conn.executemany(
                "DELETE FROM messages WHERE id = ? AND queue = ?", [(r[0], dlq) for r in rows]
            )
        return [DeadLetter(queue, str(mid), str(body)) for mid, body in rows]
