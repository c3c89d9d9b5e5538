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


def test_a_prune_deletes_expired_signals_waiters_and_consumption_marks(tmp_path: Path) -> None:
    """Expired consumption marks were never deleted (a send deletes its own name's
    signals and waiters only), and a name never sent again kept its expired signals for
    good. `podium runs prune` is the home's TTL: it deletes every expired signal,
    waiter and mark, of every name, and keeps what has not expired."""
    from podium.adapters.sqlite.db import Database
    from podium.core.engine.signals import Waiter
    from podium.local.prune import prune_runs

    db_path = tmp_path / "podium.db"
    store = SqliteStateStore(db_path)
    try:
        signals = store.signals()
        # Two names: the old one is never sent again (no send deletes its rows).
        for name, sid, sent in (("once", "sig-old", 1_000), ("later", "sig-new", 3 * DAY_MS)):
            signals.send(
                Signal(name=name, params={}, signal_id=sid, sent_at=sent, expires_at=sent + DAY_MS)
            )
            signals.consume("trigger:wf/t", [sid], f"group-{sid}", sent + DAY_MS)
            signals.add_waiter(name, Waiter(f"run-{sid}", "w"), sent + DAY_MS)
    finally:
        store.close()
    db = Database(db_path)
    try:
        report = prune_runs(db, tmp_path / "payloads", 0, now=3 * DAY_MS + 1)
    finally:
        db.close()
    assert report.expired_signal_rows == 4  # the old signal's two rows, its mark, waiter
    for table in ("signal_ids", "signals", "signal_consumed"):
        assert _count(db_path, table, "sig-old") == 0, table
        assert _count(db_path, table, "sig-new") == 1, table
    conn = sqlite3.connect(db_path)
    try:
        waiters = [r[0] for r in conn.execute("SELECT run_id FROM signal_waiters")]
    finally:
        conn.close()
    assert waiters == ["run-sig-new"]
