"""Deleting finished runs from the home (``podium runs prune``): the SQLite home's stand-in
for DynamoDB's TTL. Which trees may go is core/engine/retention.py's rule; this reads
the candidates and deletes a tree's rows, one write transaction per tree, so a
``podium dev`` sharing the home waits for one tree at a time, not for the whole prune.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping

from podium.adapters.sqlite import codec
from podium.adapters.sqlite.db import Database
from podium.core.engine.records import RunRecord
from podium.core.engine.retention import own_permit_key, tree_bounds
from podium.core.engine.status import RunStatus

# Every table with rows of one run, by its ``run_id`` column (the run's own row last).
# Signal waiters and consumption marks carry their own expiry: a prune deletes them once
# expired (SqliteSignals.delete_expired), not with a run.
RUN_TABLES = (
    "steps",
    "arrivals",
    "sinks",
    "closed_loops",
    "held_loops",
    "opened_loops",
    "sink_counts",
    "events",
    "logs",
    "slot_holders",
    "run_queue",
    "runs",
)

# Every table with rows of one run's own max_parallel_steps key (``run:<run_id>``), by
# its ``key`` column: deleted with the run. The run's end deletes the key's counts
# (Permits.forget), but a claim after it (a worker that read the run as RUNNING) or a
# crash in between leaves them; shared keys stay.
PERMIT_TABLES = ("permit_queue", "permit_holders", "permit_keys")

_PAGE = 200
_ENDED = tuple(s.value for s in RunStatus if s.terminal)

Row = tuple[str, str, int]
"""A row of the runs table as read: (run_id, record, active)."""

Rows = tuple[Row, ...]
"""A tree's rows of the runs table as read, by run id."""


def top_runs_created_before(db: Database, created_before: int) -> Iterator[RunRecord]:
    """Ended top runs created before ``created_before``, oldest first, a page at a time
    (a run ends after it is created, so these hold every run that ended before it).
    Settled or not: one whose follow-ups are not all done is kept, and said to be."""
    after: tuple[int, str] = (-1, "")
    ended = ", ".join("?" for _ in _ENDED)
    while True:
        with db.query() as conn:
            rows = conn.execute(
                "SELECT run_id, record, active, created_at FROM runs"
                " WHERE created_at < ? AND (created_at, run_id) > (?, ?)"
                f" AND status IN ({ended}) AND instr(run_id, '.') = 0"
                " ORDER BY created_at, run_id LIMIT ?",
                (created_before, *after, *_ENDED, _PAGE),
            ).fetchall()
        for row in rows:
            yield codec.run_from_row(row[0], row[1], row[2])
        if len(rows) < _PAGE:
            return
        after = (int(rows[-1][3]), rows[-1][0])


def _tree_rows(conn: sqlite3.Connection, root: str) -> list[tuple[str, str, int]]:
    """The rows of ``root`` and its descendants, by run id."""
    low, high = tree_bounds(root)
    return conn.execute(
        "SELECT run_id, record, active FROM runs"
        " WHERE run_id = ? OR (run_id >= ? AND run_id < ?) ORDER BY run_id",
        (root, low, high),
    ).fetchall()


def read_tree(db: Database, root: str) -> tuple[list[RunRecord], Rows]:
    """The run ``root`` and its descendants, the top run first, and their rows as read
    (what delete_tree checks are unchanged)."""
    with db.read() as conn:
        rows = _tree_rows(conn, root)
    tree = [codec.run_from_row(r[0], r[1], r[2]) for r in rows]
    return sorted(tree, key=lambda run: run.run_id != root), tuple(rows)


def read_run(db: Database, run_id: str) -> tuple[RunRecord | None, Row | None]:
    """The run ``run_id`` (None when there is none), and its row as read (what
    delete_tree checks is unchanged)."""
    with db.query() as conn:
        row = conn.execute(
            "SELECT run_id, record, active FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
    if row is None:
        return None, None
    return codec.run_from_row(row[0], row[1], row[2]), (row[0], row[1], row[2])


def blocking_runs(db: Database) -> set[str]:
    """The runs that block a strict_sequential queue."""
    with db.query() as conn:
        rows = conn.execute("SELECT blocked_by FROM slots WHERE blocked_by IS NOT NULL")
        return {r[0] for r in rows}


def delete_tree(
    db: Database, root: str, seen: Rows, others: Mapping[str, Row | None] | None = None
) -> bool:
    """Delete the tree's rows, and those of its runs' own permit keys, if its runs are
    still as ``seen`` (read_tree's rows, judged by the caller) and the ``others`` runs
    the caller judged with them (its restarts: read_run's rows, None for a run there
    was not) too; False, deleting nothing, when one changed since (an operator's retry
    in place reopened it, a child was started, it was restarted)."""
    low, high = tree_bounds(root)
    with db.write() as conn:
        if tuple(_tree_rows(conn, root)) != seen:
            return False
        for run_id, row in (others or {}).items():
            now = conn.execute(
                "SELECT run_id, record, active FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            if (tuple(now) if now is not None else None) != row:
                return False
        for table in RUN_TABLES:
            conn.execute(
                f"DELETE FROM {table} WHERE run_id = ? OR (run_id >= ? AND run_id < ?)",
                (root, low, high),
            )
        # The keys of the tree's runs, by the same bounds: ``run:<root>`` and every
        # ``run:<root>.…`` (one range of each table's primary key).
        key, key_low, key_high = (own_permit_key(k) for k in (root, low, high))
        for table in PERMIT_TABLES:
            conn.execute(
                f"DELETE FROM {table} WHERE key = ? OR (key >= ? AND key < ?)",
                (key, key_low, key_high),
            )
    return True
