"""``waiting_at_most``: a thread (a request ``podium dev`` serves) waits a couple of seconds
for a home's lock, then HomeLocked, while every other thread (the engine's workers, the
commands) keeps SQLite's 30 s busy timeout. Both waits count: SQLite's for another
process's lock, and the turn behind this process's own writers (one of which may be
waiting for that lock)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from podium.adapters.sqlite.db import (
    BUSY_TIMEOUT_MS,
    Database,
    HomeLocked,
    busy_timeout_ms,
    waiting_at_most,
)


def _busy(db: Database) -> int:
    with db.query() as conn:
        return int(conn.execute("PRAGMA busy_timeout").fetchone()[0])


def test_only_the_thread_inside_waits_less(tmp_path: Path) -> None:
    db = Database(tmp_path / "podium.db")
    try:
        assert busy_timeout_ms() == BUSY_TIMEOUT_MS == 30_000
        assert _busy(db) == BUSY_TIMEOUT_MS
        seen: list[int] = []
        with waiting_at_most(1_500):
            assert busy_timeout_ms() == 1_500
            assert _busy(db) == 1_500  # the thread's connection, opened before
            other = threading.Thread(target=lambda: seen.append(_busy(db)))
            other.start()
            other.join()
        assert seen == [BUSY_TIMEOUT_MS]  # another thread (a worker) keeps the long wait
        assert _busy(db) == BUSY_TIMEOUT_MS  # and so does this one once out
    finally:
        db.close()


def test_a_write_meeting_another_process_lock_gives_up_in_time(tmp_path: Path) -> None:
    db = Database(tmp_path / "podium.db")
    other = sqlite3.connect(tmp_path / "podium.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        with waiting_at_most(300), pytest.raises(HomeLocked) as raised, db.write() as conn:
            conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        assert time.monotonic() - began < 5
        assert "locked by another process" in str(raised.value)
        assert "waited 0.3s" in str(raised.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
        db.close()


def test_a_write_queued_behind_this_process_writer_gives_up_in_time(tmp_path: Path) -> None:
    """The worker ahead holds this process's turn (waiting 30 s for another process's
    lock, say): the request behind it does not wait that out."""
    db = Database(tmp_path / "podium.db")
    holding, release = threading.Event(), threading.Event()

    def worker() -> None:
        with db.write():
            holding.set()
            release.wait(30)

    ahead = threading.Thread(target=worker)
    ahead.start()
    try:
        assert holding.wait(5)
        began = time.monotonic()
        with waiting_at_most(300), pytest.raises(HomeLocked) as raised, db.write():
            pass
        assert time.monotonic() - began < 5
        assert "queued behind one waiting for the lock" in str(raised.value)
    finally:
        release.set()
        ahead.join()
    with waiting_at_most(300), db.write() as conn:  # its turn comes once the worker is done
        conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
    db.close()
