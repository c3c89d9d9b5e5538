"""A local home the CLI cannot use as asked: locked by another process, read-only, damaged,
or a file given as --home. Each is said in a line that names the home and what to do, with
no traceback; commands that only read do not need the write lock, nor write access."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.adapters.sqlite import db as sqlite_db
from podium.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = "name: ok\nsteps:\n  - {id: a, type: noop}\n"


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def said(result: Result) -> str:
    """What the command printed, on one line (rich may wrap long messages)."""
    return " ".join(result.output.split())


def no_traceback(result: Result) -> None:
    """The command ended by saying so: no exception escaped it."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with one run of the workflow ``ok``."""
    wf = tmp_path / "wf.yaml"
    wf.write_text(WORKFLOW)
    where = tmp_path / "home"
    ran = podium("run", str(wf), "--home", str(where), "--json")
    assert ran.exit_code == 0, ran.output
    return where


def run_id(home: Path) -> str:
    listed = podium("runs", "list", "ok", "--home", str(home), "--json")
    assert listed.exit_code == 0, listed.output
    return str(json.loads(listed.stdout)["runs"][0]["run_id"])


@pytest.fixture
def writer(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sqlite3.Connection]:
    """Another connection holding the home's write lock (a sqlite3 shell in BEGIN
    EXCLUSIVE), and a busy timeout of half a second instead of 30."""
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_MS", 500)
    other = sqlite3.connect(home / "podium.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    yield other
    other.execute("ROLLBACK")
    other.close()


def test_commands_that_read_do_not_wait_for_the_write_lock(
    home: Path, writer: sqlite3.Connection
) -> None:
    """Each read once took the write lock for its schema check: with another process
    holding it, it waited the busy timeout and ended in a traceback."""
    rid = run_id(home)
    for args in (
        ["runs", "list", "--json"],
        ["runs", "show", rid, "--json"],
        ["runs", "timeline", rid, "--json"],
        ["runs", "logs", rid, "--json"],
        ["workflows", "list", "--json"],
        ["triggers", "list", "ok", "--json"],
    ):
        began = time.monotonic()
        done = podium(*args, "--home", str(home))
        assert done.exit_code == 0, (args, done.output, done.exception)
        assert time.monotonic() - began < 0.5 + 5, args  # no busy wait (slack for a slow box)


def test_a_command_that_writes_says_the_home_is_locked(
    home: Path, writer: sqlite3.Connection, tmp_path: Path
) -> None:
    rid = run_id(home)
    for args in (["run", str(tmp_path / "wf.yaml")], ["runs", "stop", rid]):
        done = podium(*args, "--home", str(home))
        no_traceback(done)
        assert done.exit_code == 1, (args, done.output)
        assert f"the home at {home} is locked by another process" in said(done), done.output
        assert "then try again" in said(done)


def test_a_home_missing_a_table_is_upgraded_once_then_read_without_the_lock(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A home made before trigger states were kept: the first open adds the table under
    the write lock; the next reads take no lock."""
    with sqlite3.connect(home / "podium.db") as conn:
        conn.execute("DROP TABLE trigger_states")
    assert podium("runs", "list", "--home", str(home)).exit_code == 0
    with sqlite3.connect(home / "podium.db") as conn:
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'trigger_states'").fetchone()
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_MS", 500)
    other = sqlite3.connect(home / "podium.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert podium("triggers", "list", "ok", "--home", str(home)).exit_code == 0
    finally:
        other.execute("ROLLBACK")
        other.close()


def _damage_the_runs_table(home: Path) -> None:
    """Garbage over the runs table's root page: the file opens, its schema reads, and the
    first use of the table finds the damage."""
    database = home / "podium.db"
    with sqlite3.connect(database) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'runs'").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(database.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xde\xad\xbe\xef" * (page_size // 4)
    database.write_bytes(bytes(data))


def test_a_damaged_home_is_named_not_a_traceback(home: Path, tmp_path: Path) -> None:
    _damage_the_runs_table(home)
    for args in (["run", str(tmp_path / "wf.yaml")], ["runs", "list"]):
        done = podium(*args, "--home", str(home))
        no_traceback(done)
        assert done.exit_code == 2, (args, done.output)
        assert f"{home / 'podium.db'} is damaged (database disk image is malformed)" in said(done)
        assert "restore it from a copy" in said(done)


def test_a_file_given_as_home_is_refused_by_every_command(home: Path, tmp_path: Path) -> None:
    """``--home FILE``: podium run refused it, while the read commands read the home of
    the file's directory (here, one with a run in it)."""
    beside = home / "notes.txt"  # a file in a directory that is a home
    beside.write_text("not a home")
    for args in (
        ["runs", "list", "--json"],
        ["runs", "show", "r1"],
        ["workflows", "list"],
        ["triggers", "list", "ok"],
        ["dlq", "list"],
        ["signal", "send", "s"],
        ["callback", "token", "--heartbeat"],
        ["runs", "stop", "r1"],
        ["backfill", "ok", "--from", "2026-01-01", "--to", "2026-01-02"],
        ["run", str(tmp_path / "wf.yaml")],
    ):
        done = podium(*args, "--home", str(beside))
        no_traceback(done)
        assert done.exit_code == 2, (args, done.output)
        assert f"--home {beside} is a file: give the home's directory" in said(done), args
    # The home's own database names the home, for every command alike.
    listed = podium("runs", "list", "--json", "--home", str(home / "podium.db"))
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)["runs"]) == 1


# A read-only home needs a process that file permissions apply to: root ignores them.
def _unprivileged() -> list[str] | None:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def cli_as_user(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env.update(HOME=str(home.parent), COLUMNS="200")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    return subprocess.run(
        [*prefix, sys.executable, "-m", "podium.cli.main", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.parent,
        timeout=120,
    )


@pytest.mark.parametrize(("directory_mode", "file_mode"), [(0o755, 0o444), (0o555, 0o644)])
def test_a_read_only_home_is_read_and_writing_commands_say_it_is_read_only(
    home: Path, tmp_path: Path, directory_mode: int, file_mode: int
) -> None:
    """It was reported as 'not a Podium home's database', reads and writes alike."""
    rid = run_id(home)
    for leftover in home.glob("podium.db-*"):
        leftover.unlink()
    (home / "podium.db").chmod(file_mode)
    home.chmod(directory_mode)
    try:
        listed = cli_as_user(home, "runs", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [r["run_id"] for r in json.loads(listed.stdout)["runs"]] == [rid]
        shown = cli_as_user(home, "runs", "show", rid, "--json")
        assert shown.returncode == 0, shown.stderr
        for args in (["run", str(tmp_path / "wf.yaml")], ["runs", "stop", rid]):
            done = cli_as_user(home, *args)
            assert done.returncode == 2, (args, done.stderr)
            message = " ".join(done.stderr.split())
            assert f"the home at {home} is read-only" in message, done.stderr
            assert "this command writes to it" in message and "Traceback" not in message
        # Reading left no -shm or -wal file that would keep the owner from writing later.
        assert sorted(p.name for p in home.iterdir()) == ["podium.db"]
    finally:
        home.chmod(0o755)
        (home / "podium.db").chmod(0o644)
    again = podium("run", str(tmp_path / "wf.yaml"), "--home", str(home))
    assert again.exit_code == 0, again.output


def test_a_runtime_that_cannot_open_its_home_leaves_nothing_on(
    home: Path, writer: sqlite3.Connection
) -> None:
    """A failed start left moto mocking AWS in the process: the next runtimes on moto
    found the first one's table ('Table already exists')."""
    from podium.local.runtime import LocalRuntime

    with pytest.raises(sqlite_db.HomeLocked):
        LocalRuntime(store="sqlite", home=home).start()
    for _ in range(2):
        with LocalRuntime(store="moto") as rt:
            assert rt.run(WORKFLOW).run.status.value == "SUCCEEDED"
