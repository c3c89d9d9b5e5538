"""StateStore on SQLite: the embedded default's durable home (``.podium/podium.db``).

Same semantics as ``DynamoStateStore``, condition for condition: each DynamoDB
conditional write or transaction is one ``BEGIN IMMEDIATE`` transaction here that reads
what the condition names, raises the same error with the record as it was (DynamoDB's
ReturnValuesOnConditionCheckFailure=ALL_OLD), or writes. Runs, steps and events are JSON
rows keyed like the table's items (rows.py, shared with the run slots and permits); the
run list and the active-run index are SQL indexes (the table's gsi1 and gsi2).
"""

from __future__ import annotations

import difflib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.adapters.sqlite import codec
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.permits import SqlitePermits
from podium.adapters.sqlite.queue import owner_alive
from podium.adapters.sqlite.rows import (
    insert_run,
    read_claimant,
    read_run,
    read_run_row,
    read_step,
    transition,
    update_run,
    write_step,
)
from podium.adapters.sqlite.signals import SqliteSignals
from podium.adapters.sqlite.slots import SqliteRunSlots
from podium.core.engine.checks import first_check
from podium.core.engine.decide import EdgeState
from podium.core.engine.errors import (
    ActiveVersionMoved,
    RunConflict,
    RunNotFound,
    StepConflict,
    StepExists,
    VersionSuperseded,
    WorkflowNotFound,
)
from podium.core.engine.identity import child_run_id as child_id_of
from podium.core.engine.loops import CHILD_COUNTERS, outcome_of
from podium.core.engine.records import (
    RunFailure,
    RunRecord,
    StepRecord,
    TimelineEvent,
    WorkflowVersion,
)
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.text_checks import is_ascii_digits

if TYPE_CHECKING:
    from podium.adapters.trigger_states import SqliteTriggerStates


def _pack(document: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)


# At most this many workflow names in an unknown workflow's message.
_LISTED = 10

# SQLite's integers: a number outside cannot be bound (OverflowError), nor stored.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _clamped(number: int) -> int:
    """A time compared with SQLite's 64-bit integers: past them an OverflowError, where
    the other stores compare any int (a hand-made page token's time)."""
    return min(max(number, _INT64_MIN), _INT64_MAX)


def _page_key(before: tuple[int, str] | None) -> tuple[int, str] | None:
    return None if before is None else (_clamped(before[0]), before[1])


class SqliteStateStore:
    """The StateStore port on one SQLite file (or ``:memory:`` for tests)."""

    def __init__(self, db: Database | str | Path = ":memory:") -> None:
        self.db = db if isinstance(db, Database) else Database(db)
        self._signals: SqliteSignals | None = None
        self._trigger_states: SqliteTriggerStates | None = None

    def close(self) -> None:
        self.db.close()

    # workflows ---------------------------------------------------------------
    def put_workflow_version(
        self,
        name: str,
        document: dict[str, Any],
        digest: str,
        now: int,
        *,
        activate: bool = True,
    ) -> tuple[WorkflowVersion, bool]:
        with self.db.write() as conn:
            head = conn.execute(
                "SELECT latest, digest, active FROM workflow_heads WHERE name = ?", (name,)
            ).fetchone()
            latest = int(head[0]) if head else 0
            if head and head[1] == digest:
                created = False
            else:
                created = True
                n = latest + 1
                active = n if activate or head is None else int(head[2])
                conn.execute(
                    "INSERT INTO workflow_versions (name, version, document, digest, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (name, n, _pack(document), digest, now),
                )
                conn.execute(
                    "INSERT OR REPLACE INTO workflow_heads (name, latest, active, digest)"
                    " VALUES (?, ?, ?, ?)",
                    (name, n, active, digest),
                )
        if not created:
            return self.get_workflow_version(name, latest), False
        return WorkflowVersion(name, n, document, digest, now, active), True

    def list_workflow_versions(self, name: str, limit: int = 100) -> list[WorkflowVersion]:
        with self.db.read() as conn:
            head = conn.execute(
                "SELECT active FROM workflow_heads WHERE name = ?", (name,)
            ).fetchone()
            if head is None:
                raise self._unknown(name)
            rows = conn.execute(
                "SELECT version, document, digest, created_at FROM workflow_versions"
                " WHERE name = ? ORDER BY version DESC LIMIT ?",
                (name, limit),
            ).fetchall()
        active = int(head[0])
        return [
            WorkflowVersion(
                name, int(r[0]), json.loads(zlib.decompress(r[1])), r[2], int(r[3]), active
            )
            for r in rows
        ]

    def activate_workflow_version(
        self,
        name: str,
        version: int,
        *,
        only_if_latest: bool = False,
        only_if_active: int | None = None,
    ) -> WorkflowVersion:
        if not _INT64_MIN <= version <= _INT64_MAX:
            raise self._unknown(name, version)  # SQLite cannot bind it; none is stored
        with self.db.write() as conn:
            found = conn.execute(
                "SELECT 1 FROM workflow_versions WHERE name = ? AND version = ?",
                (name, version),
            ).fetchone()
            if found is None:
                raise self._unknown(name, version)
            latest, active = conn.execute(
                "SELECT latest, active FROM workflow_heads WHERE name = ?", (name,)
            ).fetchone()
            if only_if_latest and int(latest) != version:
                raise VersionSuperseded(name, version, int(latest))
            if only_if_active is not None and int(active) != only_if_active:
                raise ActiveVersionMoved(name, only_if_active, int(active))
            conn.execute("UPDATE workflow_heads SET active = ? WHERE name = ?", (version, name))
        return self.get_workflow_version(name, version)

    def breakpoints(self, workflow: str) -> frozenset[str]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT step FROM breakpoints WHERE workflow = ?", (workflow,)
            ).fetchall()
        return frozenset(r[0] for r in rows)

    def set_breakpoint(self, workflow: str, step: str, *, on: bool) -> None:
        with self.db.write() as conn:
            if on:
                conn.execute(
                    "INSERT OR IGNORE INTO breakpoints (workflow, step) VALUES (?, ?)",
                    (workflow, step),
                )
            else:
                conn.execute(
                    "DELETE FROM breakpoints WHERE workflow = ? AND step = ?", (workflow, step)
                )

    def active_version(self, name: str) -> int:
        with self.db.query() as conn:
            row = conn.execute(
                "SELECT active FROM workflow_heads WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise self._unknown(name)
        return int(row[0])

    def get_workflow_version(self, name: str, version: int | None = None) -> WorkflowVersion:
        if version is not None and not _INT64_MIN <= version <= _INT64_MAX:
            raise self._unknown(name, version)  # SQLite cannot bind it; none is stored
        with self.db.read() as conn:
            head = conn.execute(
                "SELECT active FROM workflow_heads WHERE name = ?", (name,)
            ).fetchone()
            if head is None:
                raise self._unknown(name)
            active = int(head[0])
            row = conn.execute(
                "SELECT document, digest, created_at FROM workflow_versions"
                " WHERE name = ? AND version = ?",
                (name, active if version is None else version),
            ).fetchone()
        if row is None:
            raise self._unknown(name, active if version is None else version)
        return WorkflowVersion(
            name,
            active if version is None else version,
            json.loads(zlib.decompress(row[0])),
            row[1],
            int(row[2]),
            active,
        )

    def _unknown(self, name: str, version: int | None = None) -> WorkflowNotFound:
        """An unknown workflow of this home, with the local way to add one (``podium
        push`` talks to a deployed stack) and the workflows the home has (the nearest
        when it has many); an unknown version of one it has, where its versions are."""
        hint = "run it here first (podium run FILE)"
        with self.db.query() as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM workflow_heads ORDER BY name")]
        if name in names and version is not None:  # a version it does not have
            return WorkflowNotFound.no_such_version(name, version)  # a stack's words
        if not names:
            hint += "; this home has no workflow yet"
        elif len(names) <= _LISTED:
            hint += f"; this home has {', '.join(names)}"
        else:
            near = difflib.get_close_matches(name, names, n=_LISTED, cutoff=0.5)
            like = f", among them {', '.join(near)}" if near else ""
            hint += f"; this home has {len(names)} workflows{like} (podium workflows list)"
        return WorkflowNotFound(name, version, hint=hint)

    def list_workflows(self) -> list[tuple[str, int]]:
        """Every workflow with its active version (for the local console and CLI)."""
        with self.db.query() as conn:
            rows = conn.execute("SELECT name, active FROM workflow_heads ORDER BY name").fetchall()
        return [(r[0], int(r[1])) for r in rows]

    # runs --------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        with self.db.write() as conn:
            old = read_run(conn, run.run_id)
            if old is not None:
                raise RunConflict(run.run_id, old)
            insert_run(conn, run, self.db.owner)
            if run.status.terminal and run.parent_run is not None and run.parent_step:
                # A child created ended (a loop's fence, "not started: its loop ended")
                # is settled at once: counted in the same transaction, as every settle
                # is here (DynamoDB's close_loop counts it with count_children).
                parent = read_step(conn, run.parent_run, run.parent_step)
                if parent is not None:
                    field = CHILD_COUNTERS[outcome_of(run.status)]
                    write_step(conn, replace(parent, **{field: getattr(parent, field) + 1}))

    def get_run(self, run_id: str) -> RunRecord:
        with self.db.query() as conn:
            run = read_run(conn, run_id)
        if run is None:
            raise RunNotFound(run_id)
        return run

    def list_runs(
        self, workflow: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[RunRecord]:
        before = _page_key(before)
        older = " AND (created_at, run_id) < (?, ?)" if before is not None else ""
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT run_id, record, active FROM runs WHERE workflow = ?"
                " AND json_extract(record, '$.iteration') IS NULL"
                + older
                + " ORDER BY created_at DESC, run_id DESC LIMIT ?",
                (workflow, *(before or ()), limit),
            ).fetchall()
        return [codec.run_from_row(r[0], r[1], r[2]) for r in rows]

    def search_runs(
        self,
        workflow: str | None = None,
        *,
        statuses: frozenset[RunStatus] | None = None,
        since: int | None = None,
        tags: Mapping[str, str] | None = None,
        limit: int = 20,
        before: tuple[int, str] | None = None,
    ) -> list[RunRecord]:
        """Newest first, across workflows (the local ``podium runs list`` and console);
        ``tags``: runs carrying every one of these ``key: value``; ``before``: only runs
        older than this ``(created_at, run_id)`` (the last of the page before)."""
        where: list[str] = []
        args: list[Any] = []
        for key, value in sorted((tags or {}).items()):
            if '"' in key or "\\" in key:  # no tag has such a key (core/tags.py)
                where.append("0")
                continue
            where.append("json_extract(record, ?) = ?")
            args.extend([f'$.tags."{key}"', value])
        if workflow is not None:
            where.append("workflow = ?")
            args.append(workflow)
        else:
            # Loop iterations (workflow "<name>/<step>") are listed by their loop step
            # (podium runs show RUN --step ID), not among runs: a foreach has 100,000.
            where.append("workflow NOT LIKE '%/%'")
        if statuses:
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args.extend(sorted(s.value for s in statuses))
        if since is not None:
            where.append("created_at >= ?")
            args.append(_clamped(since))
        before = _page_key(before)
        if before is not None:
            where.append("(created_at < ? OR (created_at = ? AND run_id < ?))")
            args.extend([before[0], before[0], before[1]])
        sql = "SELECT run_id, record, active FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, run_id DESC LIMIT ?"
        with self.db.query() as conn:
            rows = conn.execute(sql, (*args, limit)).fetchall()
        return [codec.run_from_row(r[0], r[1], r[2]) for r in rows]

    def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        ids = list(dict.fromkeys(run_ids))
        out: dict[str, RunRecord] = {}
        with self.db.query() as conn:
            for start in range(0, len(ids), 500):  # under SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                rows = conn.execute(
                    "SELECT run_id, record, active FROM runs"
                    f" WHERE run_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                out.update({r[0]: codec.run_from_row(r[0], r[1], r[2]) for r in rows})
        return out

    def list_active_run_ids(self) -> list[str]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT run_id FROM runs WHERE active = 1 ORDER BY run_id"
            ).fetchall()
        return [r[0] for r in rows]

    def list_due_run_ids(self, now: int, limit: int) -> list[str]:
        # The home holds few active runs: read them and sort by check time here.
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT run_id, record, active FROM runs WHERE active = 1"
            ).fetchall()
        runs = [codec.run_from_row(r[0], r[1], r[2]) for r in rows]
        due = sorted((first_check(r), r.run_id) for r in runs if first_check(r) <= now)
        return [run_id for _, run_id in due[:limit]]

    def set_run_check(self, run_id: str, at: int) -> None:
        with self.db.write() as conn:
            found = read_run_row(conn, run_id)
            if found is None or found[1] != codec.WATCHED:
                return
            update_run(conn, replace(found[0], check_at=at), inactive=False)

    def keep_run_items(self, run: RunRecord) -> None:
        """Nothing here expires (runs stay until pruned): nothing to keep."""

    def watch_run(self, run_id: str, at: int) -> bool:
        with self.db.write() as conn:
            found = read_run_row(conn, run_id)
            if found is None or found[1] != codec.UNWATCHED:
                return False
            conn.execute(
                "UPDATE runs SET active = ?, record = ? WHERE run_id = ?",
                (codec.WATCHED, codec.run_to_row(replace(found[0], check_at=at)), run_id),
            )
        return True

    def transition_run(
        self,
        run_id: str,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        reopened: int | None = None,
    ) -> RunRecord:
        with self.db.write() as conn:
            current = read_run(conn, run_id)
            if current is None or current.status not in expected:
                raise RunConflict(run_id, current)
            if reopened is not None and current.reopened != reopened:
                raise RunConflict(run_id, current)
            new = replace(current, status=to, **changes)
            # A terminal run stays in the active index until settle_run: its follow-ups
            # are not done yet.
            update_run(conn, new, inactive=False)
        return new

    def mark_run_reopened(self, run_id: str) -> RunRecord:
        with self.db.write() as conn:
            current = read_run(conn, run_id)
            if current is None or current.status is not RunStatus.RUNNING:
                raise RunConflict(run_id, current)
            new = replace(current, reopened=current.reopened + 1)
            update_run(conn, new, inactive=False)
        return new

    def settle_run(self, run_id: str) -> None:
        """The run's follow-ups are done: it leaves the active index (idempotent)."""
        with self.db.write() as conn:
            current = read_run(conn, run_id)
            if current is None or not current.status.terminal:
                raise RunConflict(run_id, current)
            conn.execute("UPDATE runs SET active = 0 WHERE run_id = ?", (run_id,))

    def mark_run_failing(
        self, run_id: str, error: str, *, timed_out: bool = False, at: int | None = None
    ) -> bool:
        """Sets the failing flag (or, with ``timed_out``, the timed-out flag) and keeps
        the first error, while the run has not ended: False (nothing written) once it
        has. A missing run raises RunNotFound (DynamoDB: a failed condition, no item)."""
        with self.db.write() as conn:
            run = read_run(conn, run_id)
            if run is None:
                raise RunNotFound(run_id)
            if run.status.terminal:
                return False
            update_run(conn, RunFailure(error, at, timed_out).flag(run), inactive=False)
        return True

    def count_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> int:
        return self.count_sinks(run_id, {step: index}, sinks=sinks)

    def count_sinks(self, run_id: str, steps: Mapping[str, int], *, sinks: int) -> int:
        with self.db.write() as conn:
            added = 0
            for step in steps:
                added += conn.execute(
                    "INSERT OR IGNORE INTO sinks (run_id, step) VALUES (?, ?)", (run_id, step)
                ).rowcount
            if added:
                conn.execute(
                    "INSERT INTO sink_counts (run_id, n) VALUES (?, ?)"
                    " ON CONFLICT (run_id) DO UPDATE SET n = n + excluded.n",
                    (run_id, added),
                )
            row = conn.execute("SELECT n FROM sink_counts WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0]) if row else 0

    def sinks_counted(self, run_id: str, *, sinks: int) -> int:
        with self.db.query() as conn:
            row = conn.execute("SELECT n FROM sink_counts WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0]) if row else 0

    def clear_run_failing(self, run_id: str, since: int) -> bool:
        with self.db.write() as conn:
            run = read_run(conn, run_id)
            if run is None or run.failing_since != since:
                return False
            cleared = replace(run, failing=False, timed_out=False, failing_since=None, error=None)
            update_run(conn, cleared, inactive=False)
        return True

    def reopen_step(self, run_id: str, step: str, *, expected: frozenset[StepStatus]) -> bool:
        with self.db.write() as conn:
            current = read_step(conn, run_id, step)
            if current is None or current.status not in expected:
                return False
            conn.execute("DELETE FROM steps WHERE run_id = ? AND step = ?", (run_id, step))
            conn.execute("DELETE FROM arrivals WHERE run_id = ? AND step = ?", (run_id, step))
            conn.execute("DELETE FROM closed_loops WHERE run_id = ? AND step = ?", (run_id, step))
            conn.execute("DELETE FROM held_loops WHERE run_id = ? AND step = ?", (run_id, step))
        return True

    def uncount_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> None:
        with self.db.write() as conn:
            removed = conn.execute(
                "DELETE FROM sinks WHERE run_id = ? AND step = ?", (run_id, step)
            ).rowcount
            if removed:
                conn.execute("UPDATE sink_counts SET n = n - 1 WHERE run_id = ?", (run_id,))

    # steps -------------------------------------------------------------------
    def create_step(self, step: StepRecord) -> None:
        with self.db.write() as conn:
            current = read_step(conn, step.run_id, step.step)
            if current is not None:
                raise StepExists(step.run_id, step.step, current)
            write_step(conn, step, self.db.owner)  # a first attempt's claim names its process

    def transition_step(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
    ) -> StepRecord:
        with self.db.write() as conn:
            new, current = transition(
                conn, run_id, step, expected, attempt, to, changes, unless_result, self.db.owner
            )
        if new is None:
            raise StepConflict(run_id, step, current)
        return new

    def end_step_failing_run(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
        failure: RunFailure,
    ) -> bool:
        with self.db.write() as conn:  # one transaction: both rows or neither
            new, current = transition(
                conn, run_id, step, expected, attempt, to, changes, unless_result
            )
            if new is None:
                raise StepConflict(run_id, step, current)
            run = read_run(conn, run_id)
            if run is None or run.status.terminal:
                return False
            update_run(conn, failure.flag(run), inactive=False)
        return True

    def running_elsewhere(self, run_id: str, step: str, attempt: int) -> bool:
        """Whether another live process on this home claimed the step's ``attempt`` (and
        runs it still: a synchronous attempt runs in the process that claimed it,
        service/in_flight.py). Not this process's own claims: it knows those itself."""
        with self.db.query() as conn:
            found = read_claimant(conn, run_id, step)
            if found is None:
                return False
            record, token = found
            if record.status is not StepStatus.RUNNING or record.attempt != attempt:
                return False
            return token != self.db.owner and owner_alive(conn, token)

    def note_result(self, run_id: str, step: str, *, attempt: int) -> bool:
        with self.db.write() as conn:
            current = read_step(conn, run_id, step)
            if (
                current is None
                or current.status is not StepStatus.RUNNING
                or current.attempt != attempt
            ):
                return False
            write_step(conn, replace(current, result_for=attempt))
        return True

    def arrive(
        self, run_id: str, step: str, pred_index: int, edge: EdgeState, now: int
    ) -> StepRecord:
        with self.db.write() as conn:
            current = read_step(conn, run_id, step)
            added = conn.execute(
                "INSERT OR IGNORE INTO arrivals (run_id, step, pred) VALUES (?, ?, ?)",
                (run_id, step, pred_index),
            ).rowcount
            if current is None:
                current = StepRecord(run_id, step, StepStatus.PENDING)
            if not added:
                return current  # a duplicate arrival: counted once already
            new = replace(
                current,
                arrived=current.arrived + 1,
                taken_arrivals=current.taken_arrivals + (edge is EdgeState.TAKEN),
                failed_arrivals=current.failed_arrivals + (edge is EdgeState.FAILED),
            )
            write_step(conn, new)
        return new

    def open_children(self, run_id: str, step: str, first: int, last: int) -> None:
        # The count below is guarded by the child's settle, in the same transaction; only
        # the highest index opened is kept, for running_children: a launch creates its
        # children below it after it opens them, so an index opened and not created is
        # at or above the launched mark, which rises once they are created.
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO opened_loops (run_id, step, hi) VALUES (?, ?, ?)"
                " ON CONFLICT (run_id, step) DO UPDATE SET hi = max(hi, excluded.hi)",
                (run_id, step, last),
            )

    def count_children(self, run_id: str, step: str, indexes: list[int], outcome: str) -> int:
        # A settle and its count are one change here: every settled child is counted.
        return 0

    def count_child(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        child_run_id = child_id_of(run_id, step, index)
        with self.db.write() as conn:
            found = read_run_row(conn, child_run_id)
            child = found[0] if found else None
            if found is None or child is None or not child.status.terminal:
                raise RunConflict(child_run_id, child)
            if found[1] == codec.SETTLED:
                return False  # settled (and counted) before
            conn.execute("UPDATE runs SET active = 0 WHERE run_id = ?", (child_run_id,))
            current = read_step(conn, run_id, step)
            if current is not None:
                field = CHILD_COUNTERS[outcome]
                write_step(conn, replace(current, **{field: getattr(current, field) + 1}))
        return True

    def end_counted_child(
        self,
        child: RunRecord,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        outcome: str,
        defer_count: bool = False,  # counted at once all the same: one change here
    ) -> RunRecord:
        assert child.parent_run is not None and child.parent_step is not None
        with self.db.write() as conn:
            current = read_run(conn, child.run_id)
            if current is None or current.status not in expected:
                raise RunConflict(child.run_id, current)
            if current.reopened != child.reopened:  # a retry in place came since
                raise RunConflict(child.run_id, current)
            update_run(conn, replace(current, status=to, **changes), inactive=True)
            parent = read_step(conn, child.parent_run, child.parent_step)
            if parent is not None:
                field = CHILD_COUNTERS[outcome]
                write_step(conn, replace(parent, **{field: getattr(parent, field) + 1}))
        return replace(child, status=to, settled=True, watched=True, **changes)

    def running_children(self, run_id: str, step: str) -> list[int]:
        # Not counted = not settled here (one transaction does both): the active rows
        # whose id is a child id of this step (not a grandchild's), watched or not; and
        # the indexes opened and not created, between the launched mark and the highest
        # opened (at most one launch's worth).
        prefix = child_id_of(run_id, step, 0)[:-1]
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT run_id FROM runs WHERE active > 0 AND substr(run_id, 1, ?) = ?",
                (len(prefix), prefix),
            ).fetchall()
            found = conn.execute(
                "SELECT hi FROM opened_loops WHERE run_id = ? AND step = ?", (run_id, step)
            ).fetchone()
            record = read_step(conn, run_id, step)
            launched = record.children_launched if record is not None else 0
            window = range(launched, found[0]) if found else range(0)
            ids = [child_id_of(run_id, step, i) for i in window]
            made: set[str] = set()
            for k in range(0, len(ids), 500):
                chunk = ids[k : k + 500]
                made.update(
                    r[0]
                    for r in conn.execute(
                        f"SELECT run_id FROM runs WHERE run_id IN ({','.join('?' * len(chunk))})",
                        chunk,
                    )
                )
        tails = (row[0][len(prefix) :] for row in rows)
        running = {int(t) for t in tails if is_ascii_digits(t)}
        running.update(i for i, child in zip(window, ids, strict=True) if child not in made)
        return sorted(running)

    def close_children(self, run_id: str, step: str) -> None:
        with self.db.write() as conn:
            if read_step(conn, run_id, step) is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO closed_loops (run_id, step) VALUES (?, ?)",
                    (run_id, step),
                )

    def children_closed(self, run_id: str, step: str) -> bool:
        with self.db.query() as conn:
            row = conn.execute(
                "SELECT 1 FROM closed_loops WHERE run_id = ? AND step = ?", (run_id, step)
            ).fetchone()
            return row is not None and read_step(conn, run_id, step) is not None

    def hold_children(self, run_id: str, step: str, reason: str | None) -> None:
        with self.db.write() as conn:
            if reason is None:
                conn.execute("DELETE FROM held_loops WHERE run_id = ? AND step = ?", (run_id, step))
            elif read_step(conn, run_id, step) is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO held_loops (run_id, step, reason) VALUES (?, ?, ?)",
                    (run_id, step, reason),
                )

    def mark_launched(
        self, run_id: str, step: str, launched: int, loop: dict[str, Any] | None = None
    ) -> str | None:
        with self.db.write() as conn:
            current = read_step(conn, run_id, step)
            if current is None:
                return None
            if current.children_launched < launched:
                stored = current.loop if current.loop is not None else loop
                write_step(conn, replace(current, children_launched=launched, loop=stored))
            row = conn.execute(
                "SELECT reason FROM held_loops WHERE run_id = ? AND step = ?", (run_id, step)
            ).fetchone()
            return str(row[0]) if row is not None else None

    def get_step(self, run_id: str, step: str) -> StepRecord | None:
        with self.db.query() as conn:
            return read_step(conn, run_id, step)

    def get_steps(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StepRecord]:
        out: dict[tuple[str, str], StepRecord] = {}
        with self.db.query() as conn:
            for run_id, step in keys:
                found = read_step(conn, run_id, step)
                if found is not None:
                    out[(run_id, step)] = found
        return out

    def list_steps(self, run_id: str) -> list[StepRecord]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT step, record FROM steps WHERE run_id = ? ORDER BY step", (run_id,)
            ).fetchall()
        return [codec.step_from_row(run_id, r[0], r[1]) for r in rows]

    # timeline ----------------------------------------------------------------
    def put_event(self, event: TimelineEvent) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO events (run_id, at, event_id, record) VALUES (?, ?, ?, ?)",
                (event.run_id, event.at, event.event_id, codec.event_to_row(event)),
            )

    def put_event_once(self, event: TimelineEvent) -> tuple[TimelineEvent, bool]:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT record FROM events WHERE run_id = ? AND at = ? AND event_id = ?",
                (event.run_id, event.at, event.event_id),
            ).fetchone()
            if row is not None:
                return codec.event_from_row(event.run_id, event.at, event.event_id, row[0]), False
            conn.execute(
                "INSERT INTO events (run_id, at, event_id, record) VALUES (?, ?, ?, ?)",
                (event.run_id, event.at, event.event_id, codec.event_to_row(event)),
            )
        return event, True

    def list_events(self, run_id: str) -> list[TimelineEvent]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT at, event_id, record FROM events WHERE run_id = ? ORDER BY at, event_id",
                (run_id,),
            ).fetchall()
        return [codec.event_from_row(run_id, int(r[0]), r[1], r[2]) for r in rows]

    # views -------------------------------------------------------------------
    def run_slots(self) -> SqliteRunSlots:
        return SqliteRunSlots(self.db)

    def trigger_states(self) -> SqliteTriggerStates:
        from podium.adapters.trigger_states import SqliteTriggerStates

        if self._trigger_states is None:
            self._trigger_states = SqliteTriggerStates(self.db)
        return self._trigger_states

    def signals(self) -> SqliteSignals:
        if self._signals is None:
            self._signals = SqliteSignals(self.db)  # creates its tables once
        return self._signals

    def permits(self) -> SqlitePermits:
        return SqlitePermits(self.db)
