"""``podium runs prune``: delete the local home's old runs (local/prune.py). A deployed
stack needs no such command: DynamoDB's TTL deletes its runs after ``run_retention_days``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from podium.cli.local_commands import parse_since
from podium.cli.local_home import Home, print_missing_home
from podium.cli.output import out
from podium.cli.output import print_json as _print_json


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
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="The local home (the directory or its podium.db; default: PODIUM_HOME, else"
            " .podium).",
        ),
    ] = None,
) -> None:
    """Local home: delete the runs that ended before a time, with their loop iterations,
    subworkflow children, steps, timelines, logs and payload files. Unfinished runs stay,
    and so does a run that blocks a strict_sequential queue. (A deployed stack deletes its
    runs itself, after run_retention_days.)"""
    import time

    from podium.local.prune import prune_runs as prune

    ended_before = parse_since(older_than, int(time.time() * 1000))
    opened = Home(home)
    if not opened.exists:
        print_missing_home(opened)
        raise typer.Exit(1)
    with opened:
        report = prune(opened.store.db, opened.path / "payloads", ended_before, dry_run=dry_run)
    if as_json:
        _print_json(
            {
                "dry_run": dry_run,
                "runs": report.runs,
                "children": report.children,
                "kept": report.kept,
            }
        )
        return
    verb = "would delete" if dry_run else "deleted"
    children = f" (and {report.children:,} iterations and children)" if report.children else ""
    runs = f"{report.runs:,} run{'' if report.runs == 1 else 's'}"
    out().print(f"{verb} {runs}{children}", highlight=False)
    for run_id, why in sorted(report.kept.items())[:20]:
        out().print(Text(f"  kept {run_id}: {why}", style="yellow"), highlight=False)
    if len(report.kept) > 20:
        out().print(f"  ... and {len(report.kept) - 20:,} more kept", highlight=False)
