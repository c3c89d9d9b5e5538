"""``podium runs prune``: delete the local home's runs that ended before a time, each with
its loop iterations and subworkflow children, their steps, timelines, logs and payload
files. Which trees may go is core/engine/retention.py's rule; the rows go through
adapters/sqlite/prune.py. Rows first, then files: a crash between leaves payload files
nothing refers to (harmless, and rare), never a run whose payloads are gone.

Deleted rows leave free pages in the file: SQLite reuses them for new rows, so the file
stops growing, but it does not shrink. ``vacuum_home`` (``--vacuum``) rewrites it without
them; it needs the write lock for the whole rewrite, so on a home another process is
writing to it waits a few seconds, then leaves it for later (``VacuumReport.problem``)
rather than queue behind that writer and then hold up every other one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from podium.adapters.payloads import file_name
from podium.adapters.sqlite.db import Database, HomeError, HomeLocked, waiting_at_most
from podium.adapters.sqlite.prune import (
    Row,
    blocking_runs,
    delete_tree,
    read_run,
    read_tree,
    top_runs_created_before,
)
from podium.adapters.sqlite.signals import SqliteSignals
from podium.core.engine.records import RunRecord
from podium.core.engine.retention import kept_because, kept_for_restarts
from podium.service.restart import other_restart_run_id, restart_run_id

VACUUM_WAIT_MS = 5_000  # how long --vacuum waits for the write lock before leaving it
# A prune that leaves this much free (and at least this share of the file) says --vacuum.
HINT_FREE_BYTES = 16 * 1024 * 1024
HINT_FREE_SHARE = 0.25


@dataclass
class PruneReport:
    runs: int = 0  # top runs deleted (or, with dry_run, that would be)
    children: int = 0  # their loop iterations and subworkflow children
    kept: dict[str, str] = field(default_factory=dict)  # top run -> why it stays
    expired_signal_rows: int = 0  # expired signals, waiters and consumption marks


def prune_runs(
    db: Database,
    payloads: Path,
    ended_before: int,
    *,
    dry_run: bool = False,
    on_tree: Callable[[str, int], None] | None = None,
    now: int | None = None,
) -> PruneReport:
    """Delete (or with ``dry_run`` only count) every run tree whose top run ended before
    ``ended_before`` (epoch ms) and that the retention rule lets go. ``on_tree`` hears
    each tree deleted: its top run and how many runs it held. ``now``: also delete the
    signals, waiters and consumption marks expired by then (not with ``dry_run``)."""
    report = PruneReport()
    if now is not None and not dry_run:
        report.expired_signal_rows = _delete_expired_signals(db, now)
    blocking = blocking_runs(db)
    for top in top_runs_created_before(db, ended_before):
        tree, rows = read_tree(db, top.run_id)
        if not tree or tree[0].run_id != top.run_id:
            continue  # deleted meanwhile (another prune)
        why = kept_because(tree, ended_before, blocking)
        # Its restarts are read only for a tree the rest lets go, and each read is
        # checked again as the tree is deleted (a restart started meanwhile keeps it).
        restarts: dict[str, Row | None] = {}
        if why is None:
            why = kept_for_restarts(_restarts(db, top.run_id, restarts))
        if why is not None:
            if top.ended_at is not None and top.ended_at < ended_before:
                report.kept[top.run_id] = why  # old enough, kept for another reason
            continue
        if not dry_run:
            if not delete_tree(db, top.run_id, rows, restarts):
                report.kept[top.run_id] = "it changed while being pruned"
                continue
            for run in tree:
                # Named as FilePayloads names it: a deep iteration's long id is hashed.
                shutil.rmtree(payloads / file_name(run.run_id), ignore_errors=True)
        report.runs += 1
        report.children += len(tree) - 1
        if on_tree is not None:
            on_tree(top.run_id, len(tree))
    return report


def _restarts(db: Database, run_id: str, read: dict[str, Row | None]) -> Iterator[RunRecord]:
    """The run that restarts ``run_id``, the one that restarts it, and so on, read as
    they are asked for, each row read (or None) noted in ``read``. A run is restarted
    at most once, under an id derived from its own (service/restart.py): the first of
    its two ids whose run points back to it (``restart_of``), as ``restarted_as``
    finds it; at most two reads per run of the chain, and two for its end."""
    seen = {run_id}
    while True:
        found = None
        for new_id in (restart_run_id(run_id), other_restart_run_id(run_id)):
            run, row = read_run(db, new_id)
            read[new_id] = row
            if run is not None and run.restart_of == run_id:
                found = run
                break
        if found is None or found.run_id in seen:
            return
        yield found
        seen.add(found.run_id)
        run_id = found.run_id


def _delete_expired_signals(db: Database, now: int) -> int:
    """The expired signal rows, deleted in one write; on a home another process is
    writing to, left for a later prune after a short wait (as --vacuum is) rather than
    queued behind that writer."""
    try:
        with waiting_at_most(VACUUM_WAIT_MS):
            return SqliteSignals(db).delete_expired(now)
    except HomeError:
        return 0


@dataclass
class VacuumReport:
    bytes_before: int  # the database file and its -wal, before the prune
    bytes_after: int  # and after the vacuum
    done: bool = False
    checkpointed: bool = True  # False: the file shrinks at a later checkpoint
    problem: HomeError | None = None  # why it was not done (HomeLocked: try again later)


def database_bytes(path: str | Path) -> int:
    """The bytes on disk of the home's database: the file and its -wal."""
    total = 0
    for name in (str(path), f"{path}-wal"):
        with suppress(OSError):  # no -wal: nobody has it open
            total += Path(name).stat().st_size
    return total


def vacuum_home(db: Database, bytes_before: int, *, wait_ms: int | None = None) -> VacuumReport:
    """VACUUM the home, then checkpoint it so that the file shrinks now. A home whose
    write lock is not free within ``wait_ms`` (VACUUM_WAIT_MS) is left as it is
    (``problem`` says so: try again when the other process is done); so is one SQLite
    cannot rewrite (a full disk)."""
    report = VacuumReport(bytes_before, bytes_before)
    try:
        with waiting_at_most(VACUUM_WAIT_MS if wait_ms is None else wait_ms):
            db.vacuum()
    except HomeError as exc:
        report.problem = exc
    else:
        report.done = True
        try:
            report.checkpointed = db.checkpoint()
        except HomeLocked:  # readers and writers kept at it for 30 s: a later one does it
            report.checkpointed = False
    report.bytes_after = database_bytes(db.path)
    return report


def worth_vacuuming(free: int, total: int) -> bool:
    """Whether a prune left enough free space in the file to say that --vacuum would
    give it back: ``HINT_FREE_BYTES`` and ``HINT_FREE_SHARE`` of the file."""
    return free >= HINT_FREE_BYTES and free >= HINT_FREE_SHARE * max(total, 1)
