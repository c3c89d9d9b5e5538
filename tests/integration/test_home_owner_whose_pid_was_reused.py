"""A process registered on a home that died without retiring was taken for alive as long
as any process on the host had its pid: a reused pid kept the dead one's messages
un-adopted (its runs stalled), and made `podium run` wait while that pid lived."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.queue import Owners, SqliteQueue, process_identity

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="the kernel tells processes apart by /proc"
)


@pytest.fixture
def other_process() -> Iterator[int]:
    """A live process on this host, not this one: the one that got the dead one's pid."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _register(db: Database, token: str, pid: int, process: str | None) -> None:
    """An owners row as a process that registered, then died without retiring, left it."""
    with db.write() as conn:
        conn.execute(
            "INSERT INTO owners (token, pid, host, started_at, seen_at, process)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token, pid, socket.gethostname(), 0, 0, process),
        )


def test_a_dead_owner_whose_pid_another_process_got_is_adopted(
    tmp_path: Path, other_process: int
) -> None:
    """The owners row of a dead process whose pid now belongs to another live process:
    os.kill(pid, 0) answered for that one, so the dead one was alive for good. The
    kernel's start time of the process now behind the pid tells them apart."""
    clock = ManualClock()
    db = Database(tmp_path / "podium.db")
    try:
        dead = f"{socket.gethostname()}:{other_process}:deadbeef0000"
        boot = process_identity(other_process)
        assert boot is not None
        _register(db, dead, other_process, boot.rsplit(":", 1)[0] + ":1")  # started at boot
        SqliteQueue(db, "work", clock, owner=dead).send({"left": "by the dead one"})
        here = Owners(db, clock)
        here.register()
        assert not here.others_alive()
        assert here.adopt() == 1
    finally:
        db.close()


def test_a_live_owner_is_still_alive(tmp_path: Path, other_process: int) -> None:
    """The process that registered, still running under its pid, is alive: its messages
    stay its own."""
    clock = ManualClock()
    db = Database(tmp_path / "podium.db")
    try:
        live = f"{socket.gethostname()}:{other_process}:live00000000"
        _register(db, live, other_process, process_identity(other_process))
        SqliteQueue(db, "work", clock, owner=live).send({"kept": "by the live one"})
        here = Owners(db, clock)
        here.register()
        assert here.others_alive()
        assert here.adopt() == 0
    finally:
        db.close()
