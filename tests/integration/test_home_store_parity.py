"""SqliteStateStore against the memory store of the same port (core/ports.py
StateStore), and the home's process registry: where the SQLite adapter answered
differently (found by a review; each test failed before its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.adapters.memory_store import MemoryStateStore
from podium.adapters.sqlite.store import SqliteStateStore
from podium.core.engine.errors import WorkflowNotFound

PAST_INT64 = 2**63  # an int Python keeps, and SQLite cannot bind


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_version_past_int64_is_not_found_on_every_store(kind: str, tmp_path: Path) -> None:
    """StateStore.get_workflow_version / activate_workflow_version of a version that does
    not exist raise WorkflowNotFound (the memory store does, for any int). The SQLite
    store raises OverflowError ("Python int too large to convert to SQLite INTEGER") for
    a version past 2**63-1, since it binds it as a parameter
    (adapters/sqlite/store.py get_workflow_version, activate_workflow_version): the CLI
    (`podium workflows show NAME --version N`, `workflows activate`, `workflows diff`)
    then dies with a traceback. Right: the same WorkflowNotFound (check the range before
    binding: no version is past int64). The "memory" case is a control (it passes)."""
    store = MemoryStateStore() if kind == "memory" else SqliteStateStore(tmp_path / "podium.db")
    try:
        store.put_workflow_version("wf", {"name": "wf"}, "d1", 1)
        with pytest.raises(WorkflowNotFound):
            store.get_workflow_version("wf", PAST_INT64)
        with pytest.raises(WorkflowNotFound):
            store.activate_workflow_version("wf", PAST_INT64)
    finally:
        if isinstance(store, SqliteStateStore):
            store.close()


def test_a_dead_process_whose_pid_this_process_now_has_is_adopted(tmp_path: Path) -> None:
    """A process that died without retiring (killed, a container or pod restarted) left
    its owner row and its messages. If this process got the same pid on the same host
    (a container's pid 1 under the same hostname; a pod restarted in place; pid reuse),
    Owners._alive (adapters/sqlite/queue.py) asks os.kill(pid, 0), which answers for
    *this* process, so the dead one is alive forever: its messages are never adopted
    (its runs never progress) and others_alive() stays True, so `podium run` waits on
    it for good (LocalRuntime._keep_waiting) and nothing is reclaimed at start. Right:
    a row with this process's own pid and host but another token cannot be a live
    process (pids are unique among live processes of a host): it is dead, and adopt()
    takes its messages."""
    import os
    import socket

    from podium.adapters.clock import ManualClock
    from podium.adapters.sqlite.db import Database
    from podium.adapters.sqlite.queue import Owners, SqliteQueue

    clock = ManualClock()
    db = Database(tmp_path / "podium.db")
    try:
        dead = f"{socket.gethostname()}:{os.getpid()}:deadbeef0000"
        with db.write() as conn:
            conn.execute(
                "INSERT INTO owners (token, pid, host, started_at, seen_at) VALUES (?, ?, ?, ?, ?)",
                (dead, os.getpid(), socket.gethostname(), 0, 0),
            )
        SqliteQueue(db, "work", clock, owner=dead).send({"left": "by the dead one"})
        here = Owners(db, clock)
        here.register()
        assert not here.others_alive()
        assert here.adopt() == 1
    finally:
        db.close()
