"""The SQLite home's signals (adapters/sqlite/signals.py): expired rows that nothing
deleted (found by a review; the test failed before its fix)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from podium.adapters.sqlite.store import SqliteStateStore
from podium.core.engine.signals import Signal

DAY_MS = 86_400_000


def _count(db_path: Path, table: str, signal_id: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE signal_id = ?", (signal_id,)
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


def test_an_expired_signal_is_deleted_whole_by_the_next_send_of_its_name(tmp_path: Path) -> None:
    """The module promises "Expired rows are skipped by reads and deleted by the next
    send of the same name (the table's TTL, done by hand)", and docs/operations.md that
    signals "go by their own expiry" (a prune leaves them to it). But the next send
    deletes only the expired `signals` row (signals.py send: DELETE FROM signals ...);
    the expired signal's `signal_ids` row, which holds the whole signal with its payload
    (up to 64 KiB each), is never deleted by anything (no DELETE FROM signal_ids exists),
    so a home that gets signals grows without bound and no prune can help. (The same
    holds for expired `signal_waiters` and `signal_consumed` rows.) Right: the send that
    deletes a name's expired heads deletes their identity rows too (those whose
    expires_at passed and that no newer signal re-used)."""
    db_path = tmp_path / "podium.db"
    store = SqliteStateStore(db_path)
    try:
        signals = store.signals()
        old = Signal(
            name="feed_ready",
            params={"day": "2026-01-01"},
            signal_id="sig-old",
            sent_at=1_000,
            expires_at=1_000 + DAY_MS,
            payload={"blob": "x" * 50_000},
        )
        signals.send(old)
        later = 1_000 + 2 * DAY_MS  # the first one expired a day ago
        signals.send(
            Signal(
                name="feed_ready",
                params={"day": "2026-01-03"},
                signal_id="sig-new",
                sent_at=later,
                expires_at=later + DAY_MS,
            )
        )
        assert signals.get("sig-old", now=later) is None  # expired: not read any more
        assert _count(db_path, "signals", "sig-old") == 0  # its head row went
    finally:
        store.close()
    # ... and so must the row that holds the whole expired signal (its 50 KB payload).
    assert _count(db_path, "signal_ids", "sig-old") == 0
