"""Permits on SQLite, transaction for transaction like ``DynamoPermits``.

``permit_keys`` holds a key's held count ``n``, waiter count ``w`` and last limit seen
(the ``#PERMITS`` item), ``permit_holders`` its holders with their lease expiry, and
``permit_queue`` one row per waiting step (the ``Q#`` items, in arrival order).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.rows import read_step, transition
from podium.core.engine.permits import (
    PermitNeed,
    QueuePlace,
    holder_id,
    orphaned,
    stranded_in_queue,
)
from podium.core.engine.records import PermitState, StepRecord
from podium.core.engine.status import CLAIMABLE, StepStatus
from podium.core.ports import Claim, ClaimResult

_WAITING = frozenset({StepStatus.WAITING_FOR_PERMITS, StepStatus.READY})


class _Cancelled(Exception):
    """A condition of the transaction failed: nothing it wrote is kept."""


def _counts(conn: sqlite3.Connection, key: str) -> tuple[int, int]:
    row = conn.execute("SELECT n, w FROM permit_keys WHERE key = ?", (key,)).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _add(conn: sqlite3.Connection, key: str, *, n: int = 0, w: int = 0, lim: int | None) -> None:
    """DynamoDB's ``ADD n :x, w :y`` (and ``SET lim``): creates the key's row if missing."""
    conn.execute(
        "INSERT INTO permit_keys (key, n, w, lim) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET n = n + excluded.n, w = w + excluded.w,"
        " lim = COALESCE(excluded.lim, lim)",
        (key, n, w, lim),
    )


def _leave_queue(conn: sqlite3.Connection, step: StepRecord, *, count: bool = True) -> bool:
    """Delete the step's queue row (it must exist) and, with ``count``, count one waiter
    less; False when the row is gone."""
    assert step.waiting_key is not None and step.waiting_since is not None
    deleted = conn.execute(
        "DELETE FROM permit_queue WHERE key = ? AND since = ? AND holder = ?",
        (step.waiting_key, step.waiting_since, holder_id(step.run_id, step.step)),
    ).rowcount
    if not deleted:
        return False
    if count:
        _add(conn, step.waiting_key, w=-1, lim=None)
    return True


class SqlitePermits:
    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(
        self,
        step: StepRecord,
        needs: Sequence[PermitNeed],
        *,
        attempt: int,
        changes: Mapping[str, Any],
    ) -> ClaimResult:
        holder = holder_id(step.run_id, step.step)
        lease = changes["lease_until"]
        try:
            with self._db.write() as conn:
                # The step's own condition decides first (DynamoDB reports it as the
                # transaction's last item, and the adapter reads it first).
                current = read_step(conn, step.run_id, step.step)
                if (
                    current is None
                    or current.status not in CLAIMABLE
                    or current.attempt != attempt - 1
                ):
                    return ClaimResult(Claim.CONFLICT, current=current)
                for need in needs:
                    n, w = _counts(conn, need.key)
                    held = conn.execute(
                        "SELECT 1 FROM permit_holders WHERE key = ? AND holder = ?",
                        (need.key, holder),
                    ).fetchone()
                    # A step that waited on this key leaves its queue in the same update;
                    # newcomers queue behind steps that waited first. A step that waits
                    # on another key is no newcomer: bounced to the back of this key's
                    # queue, it woke this one's head, which did the same back (a
                    # livelock of two keys, both free).
                    newcomer_blocked = step.waiting_key is None and w > 0
                    if n >= need.limit or held is not None or newcomer_blocked:
                        return ClaimResult(Claim.FULL, full_key=need.key)
                for need in needs:
                    conn.execute(
                        "INSERT INTO permit_holders (key, holder, lease) VALUES (?, ?, ?)",
                        (need.key, holder, int(lease)),
                    )
                    was_waiting_here = step.waiting_key == need.key
                    _add(conn, need.key, n=1, w=-1 if was_waiting_here else 0, lim=need.limit)
                if step.waiting_key is not None:
                    counted = any(n.key == step.waiting_key for n in needs)
                    if not _leave_queue(conn, step, count=not counted):
                        raise _Cancelled  # its queue row is gone: a replay
                step_changes = {
                    **changes,
                    "waiting_key": None,
                    "waiting_since": None,
                    "reason": None,
                }
                transition(
                    conn,
                    step.run_id,
                    step.step,
                    CLAIMABLE,
                    attempt - 1,
                    StepStatus.RUNNING,
                    step_changes,
                    claimant=self._db.owner,
                )
        except _Cancelled:
            return ClaimResult(Claim.CONFLICT)
        return ClaimResult(Claim.CLAIMED)

    def wait(self, step: StepRecord, key: str, limit: int, now: int) -> bool:
        holder = holder_id(step.run_id, step.step)
        try:
            with self._db.write() as conn:
                if step.waiting_key == key:
                    # Woken, but the key is full again: back in its place.
                    new, _ = transition(
                        conn,
                        step.run_id,
                        step.step,
                        CLAIMABLE,
                        step.attempt,
                        StepStatus.WAITING_FOR_PERMITS,
                        {},
                    )
                    return new is not None
                current = read_step(conn, step.run_id, step.step)
                if current is None or current.waiting_key != step.waiting_key:
                    raise _Cancelled  # a stale read: the step queued elsewhere meanwhile
                if step.waiting_key is not None and not _leave_queue(conn, step):
                    raise _Cancelled
                conn.execute(
                    "INSERT OR REPLACE INTO permit_queue (key, since, holder) VALUES (?, ?, ?)",
                    (key, now, holder),
                )
                _add(conn, key, w=1, lim=limit)
                new, _ = transition(
                    conn,
                    step.run_id,
                    step.step,
                    CLAIMABLE,
                    step.attempt,
                    StepStatus.WAITING_FOR_PERMITS,
                    {
                        "waiting_key": key,
                        "waiting_since": now,
                        "reason": f"waiting for a permit of '{key}' (limit {limit})",
                    },
                )
                if new is None:
                    raise _Cancelled
        except _Cancelled:
            return False
        return True

    def release(self, key: str, holder: str) -> bool:
        with self._db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM permit_holders WHERE key = ? AND holder = ?", (key, holder)
            ).rowcount
            if not deleted:
                return False
            _add(conn, key, n=-1, lim=None)
        return True

    def queue(self, key: str, limit: int) -> list[tuple[str, str]]:
        with self._db.query() as conn:
            rows = conn.execute(
                "SELECT holder FROM permit_queue WHERE key = ? ORDER BY since, holder LIMIT ?",
                (key, limit),
            ).fetchall()
        out = []
        for (holder,) in rows:
            run_id, _, step = holder.partition("/")
            out.append((run_id, step))
        return out

    def places(self, key: str, limit: int, *, after: QueuePlace | None = None) -> list[QueuePlace]:
        since, holder = (
            (-1, "") if after is None else (after.since, holder_id(after.run_id, after.step))
        )
        with self._db.query() as conn:
            rows = conn.execute(
                "SELECT since, holder FROM permit_queue WHERE key = ?"
                " AND (since > ? OR (since = ? AND holder > ?)) ORDER BY since, holder LIMIT ?",
                (key, since, since, holder, limit),
            ).fetchall()
        out = []
        for at, held_by in rows:
            run_id, _, step = str(held_by).partition("/")
            out.append(QueuePlace(key, int(at), run_id, step))
        return out

    def head(self, key: str) -> tuple[str, str] | None:
        first = self.queue(key, 1)
        return first[0] if first else None

    def abandon(self, step: StepRecord, to: StepStatus, changes: Mapping[str, Any]) -> bool:
        try:
            with self._db.write() as conn:
                if not _leave_queue(conn, step):
                    raise _Cancelled
                new, _ = transition(
                    conn,
                    step.run_id,
                    step.step,
                    _WAITING | CLAIMABLE,
                    None,
                    to,
                    {**changes, "waiting_key": None, "waiting_since": None},
                )
                if new is None:
                    raise _Cancelled
        except _Cancelled:
            return False
        return True

    def head_place(self, key: str) -> QueuePlace | None:
        with self._db.query() as conn:
            row = conn.execute(
                "SELECT since, holder FROM permit_queue WHERE key = ? ORDER BY since, holder"
                " LIMIT 1",
                (key,),
            ).fetchone()
        if row is None:
            return None
        run_id, _, step = str(row[1]).partition("/")
        return QueuePlace(key, int(row[0]), run_id, step)

    def drop(self, step: StepRecord) -> bool:
        if step.waiting_key is None or not stranded_in_queue(step):
            return False
        try:
            with self._db.write() as conn:
                current = read_step(conn, step.run_id, step.step)
                if (
                    current is None
                    or current.status is not step.status
                    or (current.waiting_key, current.waiting_since)
                    != (step.waiting_key, step.waiting_since)
                ):
                    return False
                if not _leave_queue(conn, step):
                    raise _Cancelled
                transition(
                    conn,
                    step.run_id,
                    step.step,
                    frozenset({current.status}),
                    None,
                    current.status,
                    {"waiting_key": None, "waiting_since": None},
                )
        except _Cancelled:
            return False
        return True

    def drop_orphan(self, place: QueuePlace) -> bool:
        with self._db.write() as conn:
            if not orphaned(place, read_step(conn, place.run_id, place.step)):
                return False
            deleted = conn.execute(
                "DELETE FROM permit_queue WHERE key = ? AND since = ? AND holder = ?",
                (place.key, place.since, holder_id(place.run_id, place.step)),
            ).rowcount
            if not deleted:
                return False
            _add(conn, place.key, w=-1, lim=None)
        return True

    def state(self, key: str) -> PermitState:
        with self._db.read() as conn:
            row = conn.execute("SELECT n, w, lim FROM permit_keys WHERE key = ?", (key,)).fetchone()
            holders = dict(
                conn.execute(
                    "SELECT holder, lease FROM permit_holders WHERE key = ?", (key,)
                ).fetchall()
            )
        if row is None:
            return PermitState(active=0, holders=holders, waiting=0, limit=None)
        return PermitState(
            active=int(row[0]),
            holders=holders,
            waiting=int(row[1]),
            limit=int(row[2]) if row[2] is not None else None,
        )

    def forget(self, key: str) -> bool:
        with self._db.write() as conn:
            # As DynamoPermits, on the key's counts: none held means no holder row, none
            # waiting no queue row.
            deleted = conn.execute(
                "DELETE FROM permit_keys WHERE key = ? AND n <= 0 AND w <= 0", (key,)
            ).rowcount
        return bool(deleted)
