"""Another process held the home's write lock past the busy timeout while a runtime worked
on it: `podium run` printed the work handler's whole traceback, its pump let HomeLocked
out and the command exited, leaving the run RUNNING though the lock passed seconds later;
and a runtime that stopped then left its row in the home's owners registry."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import podium
from podium.adapters.sqlite import db as sqlite_db
from podium.adapters.sqlite.db import HomeLocked
from podium.core.engine.status import RunStatus
from podium.local import runtime as local_runtime
from podium.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
# The podium under test (this process's), for the other process too.
FUNCTIONS = Path(podium.__file__).resolve().parents[1]
HERE = "tests.integration.test_podium_run_waits_out_a_locked_home"


def _wait_for_the_lock(event: dict[str, Any]) -> dict[str, Any]:
    """Says it runs (a marker file), then returns once another process holds the home's
    write lock (a ``locked`` file beside the marker says so)."""
    marker = Path(event["payload"]["marker"])
    marker.write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not (marker.parent / "locked").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"ok": True}


# ``podium run`` with a busy timeout of half a second (30 s otherwise), as a user runs it.
_PODIUM_RUN = (
    "import sys; from podium.adapters.sqlite import db; db.BUSY_TIMEOUT_MS = 500;"
    " from podium.cli.main import app; sys.argv[0] = 'podium'; app()"
)


def test_podium_run_meeting_a_lock_held_past_the_busy_timeout_prints_no_traceback(
    tmp_path: Path,
) -> None:
    """Another process (a `podium runs prune --vacuum` of a big home, a sqlite3 shell) held
    the home's write lock past the busy timeout while `podium run` ended a step: the user
    saw the work handler's logged traceback (`message work-2 failed (receive 1)`,
    `Traceback ... HomeLocked`) before the one-line message, and the command exited 1
    with its run RUNNING. It now says in a line that the home is locked, waits for the
    lock, and the run ends."""
    home, marker = tmp_path / "home", tmp_path / "started"
    flow = tmp_path / "locked.json"
    flow.write_text(
        '{"name": "locked", "steps": [{"id": "a", "type": "lambda", "function":'
        f' "{HERE}:_wait_for_the_lock",'
        f' "payload": {{"marker": "{marker}"}}}}, {{"id": "b", "type": "noop",'
        ' "depends_on": ["a"]}]}'
    )
    env = {k: v for k, v in os.environ.items() if k != "PODIUM_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join([str(FUNCTIONS), str(ROOT)])
    proc = subprocess.Popen(
        [sys.executable, "-c", _PODIUM_RUN, "run", str(flow), "--home", str(home)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    other = None
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the step never started"
            time.sleep(0.05)
        other = sqlite3.connect(home / "podium.db", isolation_level=None, timeout=30)
        other.execute("BEGIN EXCLUSIVE")
        (tmp_path / "locked").write_text("")
        time.sleep(3)  # past podium run's busy timeout (0.5 s here), then the lock passes
        other.execute("ROLLBACK")
        out, err = proc.communicate(timeout=90)
    finally:
        if other is not None:
            other.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    said = out + err
    assert "is locked by another process" in said, said
    assert "Traceback" not in said, said[:600]
    # The lock passed: the run went on and ended.
    assert proc.returncode == 0, said
    assert "Waiting for the lock" in said, said


def _hold_the_lock(database: Path, seconds: float) -> threading.Thread:
    """Another process's write transaction on the home for ``seconds`` (a sqlite3 shell)."""
    taken = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(database, isolation_level=None, timeout=30)
        try:
            other.execute("BEGIN EXCLUSIVE")
            taken.set()
            time.sleep(seconds)
            other.execute("ROLLBACK")
        finally:
            other.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    return holder


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy timeout of a fifth of a second, tries again every tenth."""
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(local_runtime, "LOCK_RETRY_S", 0.1, raising=False)


@pytest.mark.usefixtures("impatient")
def test_a_runtime_that_stops_on_a_locked_home_leaves_the_owners_registry(tmp_path: Path) -> None:
    """A runtime whose stop met the home locked past the busy timeout raised HomeLocked
    and left its row in the owners registry (its messages owned by a process that is
    gone, until another took it for dead). It now waits for the lock, and retires."""
    rt = LocalRuntime(store="sqlite", home=tmp_path / "home")
    rt.start()
    assert rt.owners is not None and rt.database is not None
    token = rt.owners.token
    holder = _hold_the_lock(rt.database, 1.0)
    rt.stop()
    holder.join()
    with sqlite3.connect(rt.database) as conn:
        rows = conn.execute("SELECT token FROM owners WHERE token = ?", (token,)).fetchall()
    assert rows == [], "the stopped runtime is still registered"


@pytest.mark.usefixtures("impatient")
def test_a_pump_waits_out_a_passing_lock_and_gives_up_on_one_that_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LocalRuntime.pump let HomeLocked out the first time the busy timeout passed. It now
    waits for the lock (a run ends once it passes), and gives up in a line that says so
    once a lock stays past LOCK_PATIENCE_S with no progress."""
    flow = {"name": "quick", "steps": [{"id": "a", "type": "noop"}]}
    with LocalRuntime(store="sqlite", home=tmp_path / "home") as rt:
        assert rt.database is not None
        rt.push(flow)
        run = rt.start_run("quick")
        holder = _hold_the_lock(rt.database, 1.0)
        rt.pump(run_id=run.run_id)
        holder.join()
        assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED

        monkeypatch.setattr(local_runtime, "LOCK_PATIENCE_S", 0.5, raising=False)
        run = rt.start_run("quick")
        holder = _hold_the_lock(rt.database, 3.0)
        with pytest.raises(HomeLocked, match="then gave up"):
            rt.pump(run_id=run.run_id)
        holder.join()
