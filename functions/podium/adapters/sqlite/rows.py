"""Runs and steps read and written inside a transaction (a connection from ``Database``):
the rows that the store, its run slots and its permits all change, so that one
transaction can span them as one DynamoDB transaction spans their items.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from podium.adapters.sqlite import codec
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import StepStatus


def read_step(conn: sqlite3.Connection, run_id: str, step: str) -> StepRecord | None:
    row = conn.execute(
        "SELECT record FROM steps WHERE run_id = ? AND step = ?", (run_id, step)
    ).fetchone()
    return codec.step_from_row(run_id, step, row[0]) if row else None


def write_step(conn: sqlite3.Connection, step: StepRecord) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO steps (run_id, step, record) VALUES (?, ?, ?)",
        (step.run_id, step.step, codec.step_to_row(step)),
    )


def read_run(conn: sqlite3.Connection, run_id: str) -> RunRecord | None:
    found = read_run_row(conn, run_id)
    return found[0] if found else None


def read_run_row(conn: sqlite3.Connection, run_id: str) -> tuple[RunRecord, int] | None:
    """The run and its ``active`` column (codec.SETTLED, WATCHED or UNWATCHED)."""
    row = conn.execute("SELECT record, active FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return (codec.run_from_row(run_id, row[0], row[1]), int(row[1])) if row else None


def insert_run(conn: sqlite3.Connection, run: RunRecord) -> None:
    """Put a run that must not exist (the caller checked)."""
    conn.execute(
        "INSERT INTO runs (run_id, workflow, created_at, status, active, record)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.workflow,
            run.created_at,
            run.status.value,
            codec.active_of(run),
            codec.run_to_row(run),
        ),
    )


def update_run(conn: sqlite3.Connection, run: RunRecord, *, inactive: bool) -> None:
    """Rewrite a run; like DynamoDB's gsi2, it leaves the active index only when it is
    settled or dropped from its queue (``inactive``) and never comes back to it."""
    conn.execute(
        "UPDATE runs SET status = ?, record = ?, active = CASE WHEN ? THEN 0 ELSE active END"
        " WHERE run_id = ?",
        (run.status.value, codec.run_to_row(run), inactive, run.run_id),
    )


def transition(
    conn: sqlite3.Connection,
    run_id: str,
    step: str,
    expected: frozenset[StepStatus],
    attempt: int | None,
    to: StepStatus,
    changes: Mapping[str, Any],
    unless_result: bool = False,
) -> tuple[StepRecord | None, StepRecord | None]:
    """A step's conditional update inside a transaction: (new, None) when written, or
    (None, current) when ``status IN expected [AND attempt = attempt]`` (and with
    ``unless_result``, no result noted for that attempt) does not hold."""
    current = read_step(conn, run_id, step)
    if (
        current is None
        or current.status not in expected
        or (attempt is not None and current.attempt != attempt)
        or (unless_result and current.result_for == attempt)
    ):
        return None, current
    new = replace(current, status=to, **changes)
    write_step(conn, new)
    return new, None
