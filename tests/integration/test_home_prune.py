"""`podium runs prune`: the SQLite home kept every run forever (DynamoDB's TTL deletes a
deployed stack's runs after run_retention_days; the home had nothing like it). A prune
deletes whole finished trees (a loop's iterations, a subworkflow's children, their steps,
timelines, logs and payload files) and keeps what must stay."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.prune import RUN_TABLES, delete_tree, read_tree
from podium.cli.main import app
from podium.core.engine.errors import RunNotFound
from podium.core.engine.status import RunStatus
from podium.local.prune import prune_runs
from podium.local.runtime import LocalRuntime

LOOP = {
    "name": "sweep",
    "params": {"blob": {"type": "string", "default": ""}},
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 3)}"},
            "steps": [{"id": "w", "type": "noop"}],
        }
    ],
}
NAPPER = {"name": "napper", "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}]}
KICKER = {
    "name": "kicker",
    "steps": [{"id": "kick", "type": "subworkflow", "workflow": "napper", "wait": False}],
}
STRICT = {
    "name": "strict_etl",
    "run_strategy": "strict_sequential",
    "steps": [{"id": "boom", "type": "fail", "message": "bad feed"}],
}
FAR_FUTURE = 4_102_444_800_000  # 2100-01-01: every ended run ended before it


def _rows_of(db_path: Path, run_id: str) -> dict[str, int]:
    conn = sqlite3.connect(db_path)
    try:
        return {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE run_id = ? OR run_id LIKE ?",
                (run_id, f"{run_id}.%"),
            ).fetchone()[0]
            for table in RUN_TABLES
        }
    finally:
        conn.close()


@pytest.fixture
def home(tmp_path: Path) -> dict[str, object]:
    where = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        for defn in (LOOP, NAPPER, KICKER, STRICT):
            rt.push(defn)
        old = rt.start_run("sweep", {"blob": "x" * 10_000}).run_id  # params in a payload file
        rt.pump()
        # Time stands still from here: the sleeps go on.
        kicked = rt.start_run("kicker").run_id  # ends at once; its child sleeps on
        napping = rt.start_run("napper").run_id
        blocking = rt.start_run("strict_etl").run_id
        rt.pump(advance_time=False)
        assert rt.describe(old).run.status is RunStatus.SUCCEEDED
        assert rt.describe(kicked).run.status is RunStatus.SUCCEEDED
        assert rt.describe(napping).run.status is RunStatus.RUNNING
        assert rt.describe(blocking).run.status is RunStatus.FAILED
    return {"path": where, "old": old, "kicked": kicked, "napping": napping, "blocking": blocking}


def test_prune_deletes_finished_trees_whole_and_keeps_the_rest(home: dict[str, object]) -> None:
    where, old = home["path"], str(home["old"])
    assert isinstance(where, Path)
    assert (where / "payloads" / old).is_dir()
    before = _rows_of(where / "podium.db", old)
    assert before["runs"] == 4 and before["steps"] >= 4

    db = Database(where / "podium.db")
    try:
        dry = prune_runs(db, where / "payloads", FAR_FUTURE, dry_run=True)
        assert (dry.runs, dry.children) == (1, 3)
        assert _rows_of(where / "podium.db", old) == before  # a dry run deletes nothing
        report = prune_runs(db, where / "payloads", FAR_FUTURE)
    finally:
        db.close()

    assert (report.runs, report.children) == (1, 3)
    assert set(_rows_of(where / "podium.db", old).values()) == {0}
    assert not (where / "payloads" / old).exists()
    # Kept, each with its reason: a finished run whose child still runs, a run that
    # blocks a strict_sequential queue. The running run is not old enough to be listed.
    assert "is RUNNING" in report.kept[str(home["kicked"])]
    assert "strict_sequential" in report.kept[str(home["blocking"])]
    assert str(home["napping"]) not in report.kept
    with LocalRuntime(store="sqlite", home=str(where), clock=ManualClock()) as rt:
        with pytest.raises(RunNotFound):
            rt.describe(old)
        for kept in ("kicked", "napping", "blocking"):
            assert rt.describe(str(home[kept])).run.run_id == home[kept]
        assert len(rt.describe(str(home["kicked"])).steps) == 1


def test_a_recent_run_is_kept(home: dict[str, object]) -> None:
    where = home["path"]
    assert isinstance(where, Path)
    db = Database(where / "podium.db")
    try:
        report = prune_runs(db, where / "payloads", 0)  # nothing ended before 1970
    finally:
        db.close()
    assert (report.runs, report.kept) == (0, {})
    assert _rows_of(where / "podium.db", str(home["old"]))["runs"] == 4


def test_a_tree_changed_after_it_was_read_is_not_deleted(home: dict[str, object]) -> None:
    """An operator's retry in place can reopen a run between the prune's read and its
    delete: the delete checks, in its transaction, that the rows are as read."""
    where, old = home["path"], str(home["old"])
    assert isinstance(where, Path)
    db = Database(where / "podium.db")
    try:
        _, rows = read_tree(db, old)
        with db.write() as conn:
            conn.execute(
                "UPDATE runs SET record = json_set(record, '$.reopened', 1) WHERE run_id = ?",
                (f"{old}.each.1",),
            )
        assert delete_tree(db, old, rows) is False
        assert _rows_of(where / "podium.db", old)["runs"] == 4
        _, again = read_tree(db, old)
        assert delete_tree(db, old, again) is True
    finally:
        db.close()
    assert set(_rows_of(where / "podium.db", old).values()) == {0}


def test_the_cli_prunes_the_home(home: dict[str, object]) -> None:
    where, old = home["path"], str(home["old"])
    runner = CliRunner()
    dry = runner.invoke(
        app, ["runs", "prune", "--older-than", "2099-01-01", "--dry-run", "--home", str(where)]
    )
    assert dry.exit_code == 0, dry.output
    assert "would delete 1 run (and 3 iterations and children)" in dry.stdout
    assert f"kept {home['blocking']}" in dry.stdout
    done = runner.invoke(
        app, ["runs", "prune", "--older-than", "2099-01-01", "--home", str(where), "--json"]
    )
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert (body["runs"], body["children"], body["dry_run"]) == (1, 3, False)
    assert set(_rows_of(Path(str(where)) / "podium.db", old).values()) == {0}
    bad = runner.invoke(app, ["runs", "prune", "--older-than", "soon", "--home", str(where)])
    assert bad.exit_code == 2 and "use a duration ago" in bad.output
    missing = runner.invoke(
        app, ["runs", "prune", "--older-than", "1d", "--home", str(Path(str(where)) / "nope")]
    )
    assert missing.exit_code == 1 and "no local home" in missing.output
