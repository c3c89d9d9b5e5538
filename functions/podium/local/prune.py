"""``podium runs prune``: delete the local home's runs that ended before a time, each with
its loop iterations and subworkflow children, their steps, timelines, logs and payload
files. Which trees may go is core/engine/retention.py's rule; the rows go through
adapters/sqlite/prune.py. Rows first, then files: a crash between leaves payload files
nothing refers to (harmless, and rare), never a run whose payloads are gone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.prune import (
    blocking_runs,
    delete_tree,
    read_tree,
    top_runs_created_before,
)
from podium.core.engine.retention import kept_because


@dataclass
class PruneReport:
    runs: int = 0  # top runs deleted (or, with dry_run, that would be)
    children: int = 0  # their loop iterations and subworkflow children
    kept: dict[str, str] = field(default_factory=dict)  # top run -> why it stays


def prune_runs(
    db: Database,
    payloads: Path,
    ended_before: int,
    *,
    dry_run: bool = False,
    on_tree: Callable[[str, int], None] | None = None,
) -> PruneReport:
    """Delete (or with ``dry_run`` only count) every run tree whose top run ended before
    ``ended_before`` (epoch ms) and that the retention rule lets go. ``on_tree`` hears
    each tree deleted: its top run and how many runs it held."""
    report = PruneReport()
    blocking = blocking_runs(db)
    for top in top_runs_created_before(db, ended_before):
        tree, rows = read_tree(db, top.run_id)
        if not tree or tree[0].run_id != top.run_id:
            continue  # deleted meanwhile (another prune)
        why = kept_because(tree, ended_before, blocking)
        if why is not None:
            if top.ended_at is not None and top.ended_at < ended_before:
                report.kept[top.run_id] = why  # old enough, kept for another reason
            continue
        if not dry_run:
            if not delete_tree(db, top.run_id, rows):
                report.kept[top.run_id] = "it changed while being pruned"
                continue
            for run in tree:
                shutil.rmtree(payloads / run.run_id, ignore_errors=True)
        report.runs += 1
        report.children += len(tree) - 1
        if on_tree is not None:
            on_tree(top.run_id, len(tree))
    return report
