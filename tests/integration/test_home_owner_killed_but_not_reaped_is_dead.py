"""A process registered on the home that was killed but not yet reaped by its parent (a
zombie: a script that kills a `podium run` and waits for it later) counted as alive: its
pid still answered os.kill(pid, 0) and /proc still showed its start time. Its messages
were never adopted, and a second `podium run` of the same workflow waited QUEUED behind
the dead one's run forever, saying nothing (so the script never got to reap the first)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.queue import Owners, SqliteQueue, process_identity
from tests.integration.home_processes_support import (
    ROOT,
    env_for,
    podium_command,
    start_podium,
    wait_for,
)
from tests.integration.test_home_owner_whose_pid_was_reused import _register, other_process

__all__ = ["other_process"]  # the fixture

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="the kernel lists a zombie in /proc"
)

HERE = "tests.integration.test_home_owner_killed_but_not_reaped_is_dead"


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rfind(")") + 2]


def _until_zombie(pid: int) -> None:
    deadline = time.monotonic() + 10
    while _state(pid) != "Z":
        assert time.monotonic() < deadline, "the killed process never became a zombie"
        time.sleep(0.05)


@pytest.fixture
def zombie(other_process: int) -> int:
    """A process of this host, killed and not reaped (yet)."""
    time.sleep(0.2)
    return other_process


def test_an_owner_killed_and_not_reaped_is_adopted(tmp_path: Path, zombie: int) -> None:
    """An owners row of a process that was then killed, its parent not waiting for it
    yet: its message stayed its own, and another process on the home waited for it."""
    clock = ManualClock()
    db = Database(tmp_path / "podium.db")
    try:
        token = f"{socket.gethostname()}:{zombie}:zombie000000"
        _register(db, token, zombie, process_identity(zombie))
        SqliteQueue(db, "work", clock, owner=token).send({"left": "by the killed one"})
        os.kill(zombie, signal.SIGKILL)  # not waited for: a zombie
        _until_zombie(zombie)
        here = Owners(db, clock)
        here.register()
        assert not here.others_alive()
        assert here.adopt() == 1
    finally:
        db.close()


def hold_first_call(event: dict[str, Any]) -> dict[str, Any]:
    """The first call (of any run: no marker yet) says it started (the marker file) and
    runs far longer than the test waits; a later call returns at once."""
    marker = Path(event["payload"]["marker"])
    first = not marker.exists()
    with marker.open("a") as f:
        f.write(f"{event['attempt']}\n")
    if first:
        time.sleep(600)
    return {"ok": True}


@pytest.mark.slow
def test_a_killed_podium_run_its_parent_has_not_reaped_yet_is_dead(tmp_path: Path) -> None:
    """A script killed a `podium run` with SIGKILL and, before it reaped it (Popen.wait),
    ran `podium run` of the same file again: the second run waited QUEUED behind the
    dead one's run forever. It takes the dead one's run over and ends, then its own."""
    home, marker = tmp_path / "home", tmp_path / "started"
    wf = tmp_path / "w.yaml"
    wf.write_text(
        "name: reaped_late\nsteps:\n"
        f"  - {{id: a, type: lambda, function: '{HERE}:hold_first_call',"
        f" payload: {{marker: '{marker}'}}}}\n"
        "  - {id: b, type: noop, depends_on: [a]}\n"
    )
    first = start_podium(home, "run", str(wf))
    try:
        wait_for(marker, first, "step a started")
        first.kill()  # SIGKILL; not reaped yet (no wait): a zombie meanwhile
        _until_zombie(first.pid)
        try:
            second = subprocess.run(
                podium_command("run", str(wf), "--json"),
                cwd=ROOT,
                env=env_for(home),
                capture_output=True,
                text=True,
                timeout=45,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(
                "the second podium run still waited after 45 s behind the run of a"
                f" killed (zombie) process: {(exc.stderr or b'')[-1000:]!r}"
            ) from None
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(second.stdout)["run"]["status"] == "SUCCEEDED"
