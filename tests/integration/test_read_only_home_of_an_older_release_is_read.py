"""A home made by an older Podium that this user may not write (a colleague's project, a
CI artifact) is read by the commands that only read, as docs/architecture.md promises of
a read-only home: the schema upgrade is a write, so it is not tried; the home is read as
upgraded (the tables and columns it lacks: empty, NULL), and a command that writes says
the home is read-only, changing nothing in the file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from podium.adapters.sqlite import db as sqlite_db
from podium.local.runtime import LocalRuntime
from tests.integration.test_cli_home_errors import (
    ROOT,
    _unprivileged,
    no_traceback,
    podium,
    said,
)

CLI = [sys.executable, "-m", "podium.cli.main"]
WORKFLOW = {"name": "ok", "steps": [{"id": "a", "type": "noop"}]}


def test_a_read_only_home_of_the_previous_release_is_read(tmp_path: Path) -> None:
    """docs/architecture.md: "`podium runs ...`, `workflows`, `triggers list` and `dlq
    list` ... read a home they may not write (as a snapshot, when no -wal file is
    there)". A home written by the release before trigger_states.enabled_at (yesterday's:
    commit cc0ecd5), that this user may not write (a colleague's project, a CI artifact),
    was refused by every one of them with "the home at ... is read-only (...): this
    command writes to it": opening it tries the schema upgrade first (db.py
    ``Database.__init__`` -> ``_create_schema``, a write), and its failure is reported as
    the command's own write. `podium runs list` writes nothing."""
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        run = rt.run(WORKFLOW).run
    with sqlite3.connect(home / "podium.db") as conn:  # as the previous release left it
        conn.execute("ALTER TABLE trigger_states DROP COLUMN enabled_at")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for leftover in home.glob("podium.db-*"):
        leftover.unlink()
    (home / "podium.db").chmod(0o444)
    home.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env.update(HOME=str(tmp_path), COLUMNS="200")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    try:
        listed = subprocess.run(
            [*prefix, *CLI, "runs", "list", "--json", "--home", str(home)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        home.chmod(0o755)
        (home / "podium.db").chmod(0o644)
    assert listed.returncode == 0, " ".join(listed.stderr.split())
    assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [run.run_id]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def test_an_older_home_read_as_a_snapshot_is_read_as_upgraded_and_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, the home read as a snapshot as for a user who may not write it (root
    may write anything: the choice is forced). A home older still: no trigger_states
    table at all, no steps.claimed_by nor owners.clock_offset, and signal waiters without
    missed_at. Runs, a run's steps and triggers read; a command that writes is refused
    as on any read-only home, with no traceback; and the file is as it was (no upgrade,
    no -wal or -shm left beside it)."""
    home = tmp_path / "home"
    signalled = {
        "name": "waits",
        "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}],
    }
    with LocalRuntime(store="sqlite", home=home) as rt:
        run = rt.run(WORKFLOW).run
        rt.push(signalled)
        waiting = rt.start_run("waits").run_id
        rt.pump(run_id=waiting)
    database = home / "podium.db"
    with sqlite3.connect(database) as conn:  # as an older release left it
        assert "missed_at" in _columns(conn, "signal_waiters")  # the run waits for "go"
        conn.execute("DROP TABLE trigger_states")
        conn.execute("DROP INDEX steps_claimed")
        conn.execute("ALTER TABLE steps DROP COLUMN claimed_by")
        conn.execute("ALTER TABLE owners DROP COLUMN clock_offset")
        conn.execute("ALTER TABLE signal_waiters DROP COLUMN missed_at")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for leftover in home.glob("podium.db-*"):
        leftover.unlink()
    before = database.read_bytes()
    monkeypatch.setattr(sqlite_db.Database, "_read_only_snapshot", lambda self: True)

    listed = podium("runs", "list", "--json", "--home", str(home))
    no_traceback(listed)
    assert listed.exit_code == 0, listed.output
    assert {r["run_id"] for r in json.loads(listed.stdout)["runs"]} == {run.run_id, waiting}
    shown = podium("runs", "show", waiting, "--json", "--home", str(home))
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["run"]["status"] == "RUNNING", shown.stdout
    shown = podium("runs", "show", run.run_id, "--json", "--home", str(home))
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["run"]["status"] == "SUCCEEDED", shown.stdout
    triggers = podium("triggers", "list", "ok", "--home", str(home))
    no_traceback(triggers)
    assert triggers.exit_code == 0, triggers.output

    stopped = podium("runs", "stop", waiting, "--home", str(home))
    no_traceback(stopped)
    assert stopped.exit_code == 2, stopped.output
    assert f"the home at {home} is read-only" in said(stopped), stopped.output
    assert "this command writes to it" in said(stopped), stopped.output

    assert database.read_bytes() == before
    assert not list(home.glob("podium.db-*")), sorted(p.name for p in home.iterdir())
    with sqlite3.connect(database) as conn:
        assert "trigger_states" not in {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master")
        }
        assert "missed_at" not in _columns(conn, "signal_waiters")
