"""Deleting finished runs from the home (``podium runs prune``): the SQLite home's stand-in
for DynamoDB's TTL. Which trees may go is core/engine/retention.py's rule; this reads
the candidates and deletes a tree's rows, one write transaction per tree, so a
``podium dev`` sharing the home waits for one tree at a time, not for the whole prune.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from podium.adapters.sqlite import codec
from podium.adapters.sqlite.db import Database
from podium.core.engine.records import RunRecord
from podium.core.engine.retention import tree_bounds

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

_PAGE = 200

Rows = tuple[tuple[str, str, int], ...]
"""A tree's rows of the runs table as read: (run_id, record, active), by run id."""


def top_runs_created_before(db: Database, created_before: int) -> Iterator[RunRecord]:
    """Settled top runs created before ``created_before``, oldest first, a page at a time
    (a run ends after it is created, so these hold every run that ended before it)."""
    after: tuple[int, str] = (-1, "")
    while True:
        with db.query() as conn:
            rows = conn.execute(
                "SELECT run_id, record, active, created_at FROM runs"
                " WHERE created_at < ? AND (created_at, run_id) > (?, ?)"
                " AND active = ? AND instr(run_id, '.') = 0"
                " ORDER BY created_at, run_id LIMIT ?",
                (created_before, *after, codec.SETTLED, _PAGE),
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


def blocking_runs(db: Database) -> set[str]:
    """The runs that block a strict_sequential queue."""
    with db.query() as conn:
        rows = conn.execute("SELECT blocked_by FROM slots WHERE blocked_by IS NOT NULL")
        return {r[0] for r in rows}


def delete_tree(db: Database, root: str, seen: Rows) -> bool:
    """Delete the tree's rows if its runs are still as ``seen`` (read_tree's rows, judged
    by the caller); False, deleting nothing, when one changed since (an operator's retry
    in place reopened it, a child was started)."""
    low, high = tree_bounds(root)
    with db.write() as conn:
        if tuple(_tree_rows(conn, root)) != seen:
            return False
        for table in RUN_TABLES:
            conn.execute(
                f"DELETE FROM {table} WHERE run_id = ? OR (run_id >= ? AND run_id < ?)",
                (root, low, high),
            )
    return True
