"""RunSlots on SQLite, transaction for transaction like ``DynamoRunSlots``.

``slots`` holds a workflow's count and blocking run (the ``#SLOTS`` item),
``slot_holders`` its holder markers, ``run_queue`` one row per QUEUED run (the ``Q#``
items), read by ``created_at`` then ``seq``, the order rows were queued in (one more
than the workflow's highest, under the write lock). Each method is one write
transaction whose checks are the DynamoDB conditions.

``seq`` is added to a home made before it by the first enqueue (a write: a reader of a
home it may not write never adds it); until then the queue is read in its old order.
Its rows (``seq`` NULL) come first in their millisecond.
"""

from __future__ import annotations

import sqlite3
import weakref
from dataclasses import replace

from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.rows import insert_run, read_run, update_run
from podium.core.engine.errors import RunConflict
from podium.core.engine.records import QueueEntry, RunRecord, SlotState
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission, ListedEntry

# The homes whose run_queue has been seen to have ``seq`` (a column is never dropped).
_ORDERED: weakref.WeakSet[Database] = weakref.WeakSet()


def _has_seq(db: Database, conn: sqlite3.Connection) -> bool:
    if db not in _ORDERED:
        if "seq" not in {row[1] for row in conn.execute("PRAGMA table_info(run_queue)")}:
            return False
        _ORDERED.add(db)
    return True


def _next_seq(conn: sqlite3.Connection) -> int:
    """The home's next enqueue number: it never goes back, so a page read after an entry
    that left the queue (``queued(after=...)``) still lists what was queued since, even
    once the queue emptied in between (a maximum over the live rows restarted at 1).
    Kept in ``meta``; a home without it starts past its live rows."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'run_queue_seq'").fetchone()
    if row is not None:
        last = int(row[0])
    else:
        last = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM run_queue").fetchone()[0])
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('run_queue_seq', ?)", (str(last + 1),)
    )
    return last + 1


def _slots(conn: sqlite3.Connection, workflow: str) -> tuple[int, str | None, bool]:
    """(count, blocked by, the slots item exists)."""
    row = conn.execute("SELECT n, blocked_by FROM slots WHERE workflow = ?", (workflow,)).fetchone()
    return (int(row[0]), row[1], True) if row else (0, None, False)


def _state(conn: sqlite3.Connection, workflow: str) -> SlotState:
    n, blocked, _ = _slots(conn, workflow)
    holders = dict(
        conn.execute(
            "SELECT run_id, since FROM slot_holders WHERE workflow = ?", (workflow,)
        ).fetchall()
    )
    return SlotState(active=n, holders=holders, blocked_by=blocked)


def _holds(conn: sqlite3.Connection, workflow: str, run_id: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM slot_holders WHERE workflow = ? AND run_id = ?", (workflow, run_id)
        ).fetchone()
        is not None
    )


def _can_take(
    conn: sqlite3.Connection, workflow: str, run_id: str, limit: int, strict: bool
) -> tuple[bool, str | None]:
    """The ``_take_slot`` condition: (holds, blocked by)."""
    n, blocked, _ = _slots(conn, workflow)
    ok = n < limit and not _holds(conn, workflow, run_id) and not (strict and blocked)
    return ok, blocked


def _take(conn: sqlite3.Connection, workflow: str, run_id: str, now: int, strict: bool) -> None:
    """The ``_take_slot`` update: one more holder; a non-strict one clears a block."""
    conn.execute(
        "INSERT INTO slots (workflow, n) VALUES (?, 1)"
        " ON CONFLICT (workflow) DO UPDATE SET n = n + 1,"
        " blocked_by = CASE WHEN ? THEN blocked_by ELSE NULL END",
        (workflow, strict),
    )
    conn.execute(
        "INSERT INTO slot_holders (workflow, run_id, since) VALUES (?, ?, ?)",
        (workflow, run_id, now),
    )


def _dequeue(conn: sqlite3.Connection, entry: QueueEntry) -> None:
    conn.execute(
        "DELETE FROM run_queue WHERE workflow = ? AND created_at = ? AND run_id = ?",
        (entry.workflow, entry.created_at, entry.run_id),
    )


def _place_of(conn: sqlite3.Connection, entry: QueueEntry, ordered: bool) -> tuple[int, int, str]:
    """Where a page after ``entry`` starts: (created, seq, run id), past it."""
    if isinstance(entry, ListedEntry):
        return entry.created_at, int(entry.place or 0), entry.run_id
    if not ordered:
        return entry.created_at, 0, entry.run_id
    row = conn.execute(
        "SELECT COALESCE(seq, 0) FROM run_queue WHERE workflow = ? AND created_at = ?"
        " AND run_id = ?",
        (entry.workflow, entry.created_at, entry.run_id),
    ).fetchone()
    # Gone from the queue: from the start of its millisecond.
    return (entry.created_at, int(row[0]), entry.run_id) if row else (entry.created_at, -1, "")


class SqliteRunSlots:
    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue(self, run: RunRecord) -> None:
        with self._db.write() as conn:
            old = read_run(conn, run.run_id)
            if old is not None:
                raise RunConflict(run.run_id, old)
            insert_run(conn, run, self._db.owner)
            if not _has_seq(self._db, conn):
                conn.execute("ALTER TABLE run_queue ADD COLUMN seq INTEGER")
            conn.execute(
                "INSERT OR REPLACE INTO run_queue (workflow, created_at, run_id, seq)"
                " VALUES (?, ?, ?, ?)",
                (run.workflow, run.created_at, run.run_id, _next_seq(conn)),
            )
        _ORDERED.add(self._db)  # once committed: a rolled-back ALTER added no column

    def queued(
        self, workflow: str, limit: int, *, after: QueueEntry | None = None
    ) -> list[QueueEntry]:
        with self._db.read() as conn:
            ordered = _has_seq(self._db, conn)
            seq = "COALESCE(seq, 0)" if ordered else "0"
            where = "workflow = ?"
            args: list[object] = [workflow]
            if after is not None:
                where += f" AND (created_at, {seq}, run_id) > (?, ?, ?)"
                args += _place_of(conn, after, ordered)
            rows = conn.execute(
                f"SELECT created_at, run_id, {seq} AS place FROM run_queue WHERE {where}"
                " ORDER BY created_at, place, run_id LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [ListedEntry(workflow, r[1], int(r[0]), str(r[2])) for r in rows]

    def admit(
        self, entry: QueueEntry, *, limit: int, strict: bool, now: int, check_at: int
    ) -> Admission:
        if limit <= 0:
            return Admission.FULL  # paused
        with self._db.write() as conn:
            run = read_run(conn, entry.run_id)
            if run is None or run.status is not RunStatus.QUEUED:
                return Admission.GONE
            ok, blocked = _can_take(conn, entry.workflow, entry.run_id, limit, strict)
            if not ok:
                return Admission.BLOCKED if strict and blocked else Admission.FULL
            _take(conn, entry.workflow, entry.run_id, now, strict)
            running = replace(run, status=RunStatus.RUNNING, started_at=now, check_at=check_at)
            update_run(conn, running, inactive=False)
            _dequeue(conn, entry)
        return Admission.ADMITTED

    def start_alone(self, run: RunRecord, now: int) -> SlotState | None:
        with self._db.write() as conn:
            ok, _ = _can_take(conn, run.workflow, run.run_id, 1, False)
            if not ok:
                return _state(conn, run.workflow)
            if read_run(conn, run.run_id) is not None:
                # DynamoDB's transaction reports no item for this failure: no current run.
                raise RunConflict(run.run_id, None)
            _take(conn, run.workflow, run.run_id, now, False)
            insert_run(conn, run, self._db.owner)
        return None

    def release(self, workflow: str, run_id: str, *, block: bool) -> bool:
        with self._db.write() as conn:
            if not _holds(conn, workflow, run_id):
                return False
            conn.execute(
                "DELETE FROM slot_holders WHERE workflow = ? AND run_id = ?", (workflow, run_id)
            )
            conn.execute(
                "UPDATE slots SET n = n - 1,"
                " blocked_by = CASE WHEN ? THEN ? ELSE blocked_by END WHERE workflow = ?",
                (block, run_id, workflow),
            )
        return True

    def state(self, workflow: str) -> SlotState:
        with self._db.read() as conn:
            return _state(conn, workflow)

    def unblock(self, workflow: str) -> None:
        with self._db.write() as conn:
            # DynamoDB's UpdateItem creates the item when it is missing: so does this.
            conn.execute(
                "INSERT INTO slots (workflow, n) VALUES (?, 0)"
                " ON CONFLICT (workflow) DO UPDATE SET blocked_by = NULL",
                (workflow,),
            )

    def drop_queued(self, entry: QueueEntry, to: RunStatus, reason: str, now: int) -> bool:
        with self._db.write() as conn:
            run = read_run(conn, entry.run_id)
            if run is None or run.status is not RunStatus.QUEUED:
                return False
            update_run(conn, replace(run, status=to, reason=reason, ended_at=now), inactive=True)
            _dequeue(conn, entry)
        return True
