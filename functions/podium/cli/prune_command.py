"""``podium runs prune``: delete the local home's old runs (local/prune.py). A deployed
stack needs no such command: DynamoDB's TTL deletes its runs after ``run_retention_days``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from podium.cli.local_commands import parse_since
from podium.cli.local_home import Home, print_missing_home
from podium.cli.output import err, out
from podium.cli.output import print_json as _print_json
from podium.cli.target_options import home_directory

if TYPE_CHECKING:
    from podium.local.prune import VacuumReport


def prune_runs(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            help="Delete the runs that ended before this: a duration ago (30d, 12h, 2w)"
            " or a date/time (2026-01-15).",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help="Then give the space the deleted runs held back to the disk (SQLite's"
            " VACUUM): the home's file shrinks. Other writers wait while it runs; on a home"
            " another process is writing to, it is left for later (exit code 1).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            parser=home_directory,
            help="The local home (the directory or its podium.db; default: PODIUM_HOME, else"
            " .podium).",
        ),
    ] = None,
) -> None:
    """Local home: delete the runs that ended before a time, with their loop iterations,
    subworkflow children, steps, timelines, logs and payload files. Unfinished runs stay;
    so do (listed, with why) an old run with a child unfinished, one whose follow-ups
    are not done, one that blocks a strict_sequential queue and one whose restart is
    still running. The home's file keeps the space they held for new runs (it stops
    growing); --vacuum gives it back to the disk.
    (A deployed stack deletes its runs itself, after run_retention_days.)"""
    import time

    from podium.local.prune import database_bytes, vacuum_home, worth_vacuuming
    from podium.local.prune import prune_runs as prune

    ended_before = parse_since(older_than, int(time.time() * 1000), "--older-than")
    opened = Home(home)
    if not opened.exists:
        print_missing_home(opened)
        raise typer.Exit(1)
    before = database_bytes(opened.database)
    vacuumed = None
    with opened:
        db = opened.store.db
        now = int(time.time() * 1000)
        report = prune(db, opened.path / "payloads", ended_before, dry_run=dry_run, now=now)
        if vacuum and not dry_run:
            vacuumed = vacuum_home(db, before)
        free = db.free_bytes()
    size = database_bytes(opened.database)
    if as_json:
        body: dict[str, Any] = {
            "dry_run": dry_run,
            "runs": report.runs,
            "children": report.children,
            "kept": report.kept,
            "expired_signal_rows": report.expired_signal_rows,
            "database_bytes": size,  # podium.db and its -wal, now
            "free_bytes": free,  # of which free pages (what --vacuum gives back)
        }
        if vacuumed is not None:
            body["vacuum"] = {
                "done": vacuumed.done,
                "bytes_before": vacuumed.bytes_before,
                "bytes_after": vacuumed.bytes_after,
                **({"checkpointed": vacuumed.checkpointed} if vacuumed.done else {}),
                **({"problem": str(vacuumed.problem)} if vacuumed.problem else {}),
            }
        _print_json(body)
        _exit_if_not_vacuumed(vacuumed)
        return
    verb = "would delete" if dry_run else "deleted"
    children = f" (and {report.children:,} iterations and children)" if report.children else ""
    runs = f"{report.runs:,} run{'' if report.runs == 1 else 's'}"
    out().print(f"{verb} {runs}{children}", highlight=False)
    if report.expired_signal_rows:
        out().print(
            f"deleted {report.expired_signal_rows:,} expired signal rows (signals, waiters,"
            " consumption marks)",
            highlight=False,
        )
    for run_id, why in sorted(report.kept.items())[:20]:
        out().print(Text(f"  kept {run_id}: {why}", style="yellow"), highlight=False)
    if len(report.kept) > 20:
        out().print(f"  ... and {len(report.kept) - 20:,} more kept", highlight=False)
    name = opened.database.name
    if vacuum and dry_run:
        out().print(
            f"would then vacuum {name} ({_size(size)} now, {_size(free)} of it free)",
            highlight=False,
        )
    elif vacuumed is not None and vacuumed.done:
        shrunk = vacuumed.bytes_before - vacuumed.bytes_after
        said = f"freed {_size(shrunk)}" if shrunk > 0 else "nothing to give back"
        out().print(
            f"vacuumed {name}: {_size(vacuumed.bytes_before)} -> {_size(vacuumed.bytes_after)}"
            f" ({said})",
            highlight=False,
        )
        if not vacuumed.checkpointed:
            out().print(
                Text(
                    f"  a reader kept {name}-wal from being emptied: the file shrinks at"
                    " the next checkpoint (when the other podium processes on this home"
                    " stop, at the latest)",
                    style="yellow",
                ),
                highlight=False,
            )
    elif vacuumed is not None:
        again = f"podium runs prune --older-than {older_than} --vacuum"
        done = f"the prune is done ({runs} deleted); " if report.runs else ""
        err().print(
            Text(
                f"did not vacuum {name} ({_size(vacuumed.bytes_before)}): {vacuumed.problem}."
                f" {done}run {again} again when nothing else writes to the home",
                style="yellow",
            ),
            highlight=False,
        )
    elif not dry_run and not vacuum and worth_vacuuming(free, size):
        out().print(
            Text(
                f"{name} keeps the {_size(free)} free that deleted runs held ({_size(size)} in"
                " all; new runs reuse it): add --vacuum to give it back to the disk",
                style="dim",
            ),
            highlight=False,
        )
    _exit_if_not_vacuumed(vacuumed)


def _exit_if_not_vacuumed(vacuumed: VacuumReport | None) -> None:
    """Exit 1 when the vacuum asked for was left for later (the home was busy: it may
    pass), or the home's error's code when SQLite could not rewrite it."""
    if vacuumed is not None and vacuumed.problem is not None:
        raise typer.Exit(vacuumed.problem.exit_code)


def _size(n: int) -> str:
    """Bytes for people: 1.2 MB (powers of 1,000, as ls -lh --si and df -H)."""
    if abs(n) < 1000:
        return f"{n:,} bytes"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if abs(value) < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"
