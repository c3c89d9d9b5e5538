"""``podium runs prune`` says which old runs it kept and why: docs/operations.md, "A tree
stays while any run in it is unfinished or ended after the cutoff ..., while its
follow-ups are not all done, and while its top run blocks a strict_sequential queue
...; the command lists those it kept and why." A top run that ended long ago but whose
follow-ups were not all done (a crash between its end and its settling: the sweeper
settles it) was kept silently: adapters/sqlite/prune.py ``top_runs_created_before`` read
only settled top runs (``active = SETTLED``), so core/engine/retention.py's "has
follow-ups to finish" was never said, and ``--json``'s ``kept`` left it out.

Now every ended top run created before the cutoff is read, settled or not, and one kept
for its follow-ups is listed with why; once settled, it goes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

DAY_MS = 86_400_000
ONE = {"name": "one", "steps": [{"id": "a", "type": "noop"}]}


def test_prune_lists_an_old_run_it_keeps_for_its_follow_ups(tmp_path: Path) -> None:
    where = tmp_path / "home"
    clock = ManualClock(start_ms=1_700_000_000_000)
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(ONE)
        run_id = rt.start_run("one").run_id
        rt.pump()
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    # As a crash after the run's end write and before its settling leaves it: ended,
    # still in the sweeper's index (adapters/sqlite/store.py end_run keeps it there).
    conn = sqlite3.connect(where / "podium.db")
    try:
        conn.execute("UPDATE runs SET active = 1 WHERE run_id = ?", (run_id,))
        conn.commit()
    finally:
        conn.close()

    result = CliRunner().invoke(
        app, ["runs", "prune", "--older-than", "1d", "--json", "--home", str(where)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["runs"] == 0  # kept: its follow-ups are not done
    assert run_id in body["kept"], f"kept but not listed: {body}"
    assert "follow-ups" in body["kept"][run_id]

    # The sweeper settles it: the next prune deletes it.
    conn = sqlite3.connect(where / "podium.db")
    try:
        conn.execute("UPDATE runs SET active = 0 WHERE run_id = ?", (run_id,))
        conn.commit()
    finally:
        conn.close()
    result = CliRunner().invoke(
        app, ["runs", "prune", "--older-than", "1d", "--json", "--home", str(where)]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["runs"], body["kept"]) == (1, {})
