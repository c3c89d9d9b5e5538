"""`podium runs prune --vacuum`: a prune deleted the rows, but SQLite keeps their pages in
the file for new rows, so the home's podium.db never shrank. --vacuum rewrites it (VACUUM,
then a checkpoint that empties the -wal) and says how big it was and is; on a home another
process is writing to, it is left for later, politely (exit 1), not queued behind that
writer. A prune that freed much space says --vacuum would give it back."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database, HomeLocked
from podium.cli.main import app
from podium.local import prune as local_prune
from podium.local.prune import database_bytes, vacuum_home
from podium.local.runtime import LocalRuntime

BULKY = {
    "name": "bulky",
    "params": {"blob": {"type": "string", "default": ""}},
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
}
RUNS = 400
FAR = "2099-01-01"  # every ended run ended before it


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with RUNS finished runs, each with 3.5 kB of params (kept in the row)."""
    where = tmp_path_factory.mktemp("vacuum") / "home"
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        rt.push(BULKY)
        for i in range(RUNS):
            rt.start_run("bulky", {"blob": f"{i:05d}" + "x" * 3500})
        rt.pump()
    return where


@pytest.fixture
def home(made: Path, tmp_path: Path) -> Path:
    """A copy of the home for each test (the runs are pruned)."""
    where = tmp_path / "home"
    where.mkdir()
    source = sqlite3.connect(made / "podium.db")
    target = sqlite3.connect(where / "podium.db")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return where


def prune(home: Path, *args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(
        app, ["runs", "prune", "--older-than", FAR, "--home", str(home), *args]
    )
    return done.exit_code, done.stdout, done.stderr


def test_prune_vacuum_shrinks_the_home_file(home: Path) -> None:
    before = database_bytes(home / "podium.db")
    assert before > 1_000_000  # 400 runs' rows
    code, stdout, stderr = prune(home, "--vacuum", "--json")
    assert code == 0, (stdout, stderr)
    body = json.loads(stdout)
    assert body["runs"] == RUNS
    vacuum = body["vacuum"]
    assert vacuum["done"] is True and vacuum["checkpointed"] is True, vacuum
    assert vacuum["bytes_before"] == before
    assert vacuum["bytes_after"] < before / 4, vacuum
    after = database_bytes(home / "podium.db")
    assert after < before / 4, (before, after)  # on disk, not only as reported
    assert body["free_bytes"] == 0  # nothing left to give back
    # The home still works: its schema and what was not pruned are there.
    db = Database(home / "podium.db")
    try:
        with db.query() as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
            assert conn.execute("SELECT count(*) FROM workflow_heads").fetchone()[0] == 1
    finally:
        db.close()


def test_prune_vacuum_says_how_much_it_gave_back(home: Path) -> None:
    code, stdout, stderr = prune(home, "--vacuum")
    assert code == 0, (stdout, stderr)
    assert f"deleted {RUNS} runs" in stdout
    assert "vacuumed podium.db: " in stdout and " MB -> " in stdout and "freed " in stdout, stdout


def test_a_prune_without_vacuum_leaves_the_file_and_says_vacuum_would_shrink_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = database_bytes(home / "podium.db")
    monkeypatch.setattr(local_prune, "HINT_FREE_BYTES", 100_000)  # 16 MB in use
    code, stdout, stderr = prune(home)
    assert code == 0, (stdout, stderr)
    assert "add --vacuum to give it back to the disk" in stdout, stdout
    assert database_bytes(home / "podium.db") >= before * 0.9  # the file did not shrink
    # JSON says the same in numbers; nothing more to prune, the free pages stay.
    code, stdout, _ = prune(home, "--json")
    body = json.loads(stdout)
    assert body["runs"] == 0 and "vacuum" not in body
    assert body["free_bytes"] > before / 2, body
    assert body["database_bytes"] >= body["free_bytes"]


def test_a_small_prune_says_nothing_of_vacuum(home: Path) -> None:
    code, stdout, _ = prune(home)  # 1.6 MB freed: under the 16 MB the hint waits for
    assert code == 0 and "--vacuum" not in stdout, stdout


def test_a_dry_run_vacuums_nothing(home: Path) -> None:
    before = database_bytes(home / "podium.db")
    code, stdout, _ = prune(home, "--dry-run", "--vacuum")
    assert code == 0, stdout
    assert f"would delete {RUNS} runs" in stdout and "would then vacuum podium.db" in stdout
    assert database_bytes(home / "podium.db") == before


def test_vacuum_on_a_busy_home_is_left_for_later(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock (podium dev writing, a sqlite3 shell): the
    vacuum waits a few seconds, not the 30 s busy timeout, then says to try again."""
    code, _, _ = prune(home)  # the runs go; the file keeps their pages
    assert code == 0
    before = database_bytes(home / "podium.db")
    other = sqlite3.connect(home / "podium.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        db = Database(home / "podium.db")
        try:
            began = time.monotonic()
            report = vacuum_home(db, before, wait_ms=300)
            assert time.monotonic() - began < 5
        finally:
            db.close()
        assert not report.done and isinstance(report.problem, HomeLocked), report
        assert report.bytes_after == database_bytes(home / "podium.db")
        # Through the CLI: the deletes are done (none here), the vacuum left for later.
        monkeypatch.setattr(local_prune, "VACUUM_WAIT_MS", 300)
        began = time.monotonic()
        code, stdout, stderr = prune(home, "--vacuum")
        assert time.monotonic() - began < 4  # 0.3 s, not VACUUM_WAIT_MS's 5 s in use
        assert code == 1, (stdout, stderr)
        assert "deleted 0 runs" in stdout
        assert "did not vacuum podium.db" in stderr and "locked by another process" in stderr
        assert f"run podium runs prune --older-than {FAR} --vacuum again" in stderr
        code, stdout, _ = prune(home, "--vacuum", "--json")
        assert code == 1
        vacuum = json.loads(stdout)["vacuum"]
        assert vacuum["done"] is False and "locked by another process" in vacuum["problem"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert database_bytes(home / "podium.db") >= before * 0.9  # untouched
    code, _, _ = prune(home, "--vacuum")  # the lock is gone: it is done now
    assert code == 0
    assert database_bytes(home / "podium.db") < before / 4
