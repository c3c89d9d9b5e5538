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


def write_step(conn: sqlite3.Connection, step: StepRecord, claimant: str | None = None) -> None:
    """Put the step. A claim (it is written RUNNING) by a process registered on the home
    names that process (``claimant``: its ``owners`` token), so a sweep in another
    process leaves the attempt to it while it lives; any other write clears the name."""
    conn.execute(
        "INSERT OR REPLACE INTO steps (run_id, step, record, claimed_by) VALUES (?, ?, ?, ?)",
        (
            step.run_id,
            step.step,
            codec.step_to_row(step),
            claimant if step.status is StepStatus.RUNNING else None,
        ),
    )


def read_claimant(
    conn: sqlite3.Connection, run_id: str, step: str
) -> tuple[StepRecord, str] | None:
    """The step and the token of the process whose claim wrote it RUNNING, if one did."""
    row = conn.execute(
        "SELECT record, claimed_by FROM steps WHERE run_id = ? AND step = ?", (run_id, step)
    ).fetchone()
    if row is None or row[1] is None:
        return None
    return codec.step_from_row(run_id, step, row[0]), str(row[1])


def read_run(conn: sqlite3.Connection, run_id: str) -> RunRecord | None:
    found = read_run_row(conn, run_id)
    return found[0] if found else None


def read_run_row(conn: sqlite3.Connection, run_id: str) -> tuple[RunRecord, int] | None:
    """The run and its ``active`` column (codec.SETTLED, WATCHED or UNWATCHED)."""
    row = conn.execute("SELECT record, active FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return (codec.run_from_row(run_id, row[0], row[1]), int(row[1])) if row else None


def insert_run(conn: sqlite3.Connection, run: RunRecord, starter: str | None = None) -> None:
    """Put a run that must not exist (the caller checked). It is the ``starter``'s (the
    token of the process that starts it, registered on the home), or, a child run (a
    loop's iteration, a subworkflow's run), its parent's: the messages of the tree go to
    that process while it lives (queue.py), where the tree's functions are mapped."""
    if run.parent_run is not None:
        row = conn.execute(
            "SELECT started_by FROM runs WHERE run_id = ?", (run.parent_run,)
        ).fetchone()
        starter = row[0] if row is not None else starter
    conn.execute(
        "INSERT INTO runs (run_id, workflow, created_at, status, active, record, started_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.workflow,
            run.created_at,
            run.status.value,
            codec.active_of(run),
            codec.run_to_row(run),
            starter,
        ),
    )


def read_starter(conn: sqlite3.Connection, run_id: str) -> str | None:
    """The token of the process that started the run's tree (None: unknown, or none
    registered on the home)."""
    row = conn.execute("SELECT started_by FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


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
    claimant: str | None = None,
) -> tuple[StepRecord | None, StepRecord | None]:
    """A step's conditional update inside a transaction: (new, None) when written, or
    (None, current) when ``status IN expected [AND attempt = attempt]`` (and with
    ``unless_result``, no result noted for that attempt) does not hold. A claim names
    its ``claimant`` (``write_step``)."""
    current = read_step(conn, run_id, step)
    if (
        current is None
        or current.status not in expected
        or (attempt is not None and current.attempt != attempt)
        or (unless_result and current.result_for == attempt)
    ):
        return None, current
    new = replace(current, status=to, **changes)
    write_step(conn, new, claimant)
    return new, None
