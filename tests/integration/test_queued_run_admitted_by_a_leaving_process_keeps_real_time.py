"""Two ``podium run``s of one workflow at once on one home (two terminals): the second
run waited QUEUED behind the first (``run_strategy: sequential``, the default), then ran
in its own process. Neither workflow slept or retried, so nothing was there to
fast-forward, yet the second run was stored as taking five minutes ("run succeeded in
5.1m of virtual time"): the first process admitted it, sent its start and stopped in the
instant the second's pump looked at an empty queue; the second then found its run
RUNNING, nothing of its own queued (it did not look again) and nobody else on the home,
took its start for lost work and jumped its virtual clock to the sweeper's next look at
the run (its admission's check, five minutes out), stamping everything after with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from podium.adapters.clock import FastForwardClock
from podium.adapters.sqlite import Database
from podium.adapters.sqlite.queue import Owners
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

ROOT = Path(__file__).resolve().parents[2]

WORKFLOW = """\
name: queued_twice
steps:
  - {id: a, type: lambda, function: "napper:quick"}
  - {id: b, type: lambda, function: "napper:nap", depends_on: [a]}
  - {id: c, type: lambda, function: "napper:quick", depends_on: [b]}
"""

NAPPER = """\
import time

def nap(event):
    time.sleep(3)
    return {"ok": True}

def quick(event):
    return {"q": 1}
"""


def _podium(*args: str) -> list[str]:
    return [sys.executable, "-c", "from podium.cli.main import app; app()", *args]


def test_a_run_queued_behind_another_process_keeps_real_times(tmp_path: Path) -> None:
    """The second ``podium run`` said "run succeeded in 5.1m of virtual time (8s real)"
    and stored steps starting 5 minutes after its run was created."""
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "napper.py").write_text(NAPPER)
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT}"}
    run = _podium("run", str(tmp_path / "wf.yaml"), "--home", str(home), "--json")
    first = subprocess.Popen(run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)  # the first run is in step b
    second = subprocess.Popen(run, cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    out_first, _ = first.communicate(timeout=120)
    out_second, _ = second.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), (out_first, out_second)
    run_record = json.loads(out_second)["run"]
    took_ms = run_record["ended_at"] - run_record["created_at"]
    assert took_ms < 60_000, (
        f"the queued run is stored as taking {took_ms / 1000:.1f}s (created"
        f" {run_record['created_at']}, ended {run_record['ended_at']}) though it waited"
        " about 3s for the other run and ran about 3s"
    )


def quick(event: dict[str, Any]) -> dict[str, Any]:
    return {"q": 1}


def test_a_start_sent_by_a_process_that_then_left_is_delivered_not_recovered(
    tmp_path: Path,
) -> None:
    """The same moment, made certain: while this runtime's pump waits with an empty
    queue, the other process ends its run (which admits ours and sends our start) and
    leaves the home. The start was there to deliver; the pump jumped five minutes."""
    home = tmp_path / "home"
    wf = {
        "name": "queued_once",
        "steps": [{"id": "a", "type": "lambda", "function": f"{__name__}:quick"}],
    }
    with LocalRuntime(store="sqlite", home=home, clock=FastForwardClock()) as rt:
        assert rt.database is not None and rt.owners is not None
        other_db = Database(rt.database)
        other = Owners(other_db, rt.clock)  # the other `podium run`, alive (this pid)
        other.register()
        rt.push(wf)
        theirs = rt.start_run("queued_once")
        with other_db.write() as conn:  # its run's messages are the other process's
            conn.execute("UPDATE messages SET owner = ?", (other.token,))
        ours = rt.start_run("queued_once")
        assert ours.status.value == "QUEUED"
        adopt = rt.adopt
        left: list[bool] = []

        def other_process_ends_its_run_and_leaves() -> int:
            if not left:
                left.append(True)
                stop_run(rt.services, theirs.run_id, "ended in the other process")
                with other_db.write() as conn:
                    conn.execute("DELETE FROM messages WHERE owner = ?", (other.token,))
                other.retire()
            return adopt()

        rt.adopt = other_process_ends_its_run_and_leaves  # type: ignore[method-assign]
        rt.pump(run_id=ours.run_id)
        view = rt.describe(ours.run_id)
        other_db.close()
    assert left, "the pump never waited for the other process"
    assert view.run.status.value == "SUCCEEDED"
    assert view.run.ended_at is not None
    took_ms = view.run.ended_at - view.run.created_at
    assert took_ms < 60_000, f"the run is stored as taking {took_ms / 1000:.1f}s: its clock jumped"
