"""Signals in the local home: a row per signal (by name and time), a row per identity
(the de-duplication), waiters and consumption marks. Expired rows are skipped by reads
and deleted by the next send of the same name (the table's TTL, done by hand)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from podium.adapters.sqlite.db import Database, dumps
from podium.core.engine.signals import ConsumedMark, ParamMatch, Signal, Waiter, matches

SCHEMA = """
CREATE TABLE IF NOT EXISTS signals (
    name TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    signal_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (name, sent_at, signal_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signal_ids (
    signal_id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    record TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signal_waiters (
    name TEXT NOT NULL,
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (name, run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signal_consumed (
    consumer TEXT NOT NULL,
    signal_id TEXT NOT NULL,
    grp TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    made_at INTEGER,
    PRIMARY KEY (consumer, signal_id)
) WITHOUT ROWID;
"""

_PAGE = 200


def _tables_current(db: Database) -> bool:
    return all(
        db.has_table(table) for table in ("signals", "signal_ids", "signal_waiters")
    ) and db.has_table("signal_consumed", ("grp", "made_at"))


class SqliteSignals:
    def __init__(self, db: Database) -> None:
        self.db = db
        if _tables_current(db):
            return  # no write lock: a command that only reads must not wait for a writer
        with db.write() as conn:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(signal_consumed)")}
            if "grp" not in columns:  # a home made before groups were kept
                conn.execute("ALTER TABLE signal_consumed ADD COLUMN grp TEXT NOT NULL DEFAULT ''")
            if "made_at" not in columns:  # nor their time (NULL: an old mark)
                conn.execute("ALTER TABLE signal_consumed ADD COLUMN made_at INTEGER")

    def send(self, signal: Signal) -> tuple[Signal, bool]:
        record = dumps(signal.as_json())
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT expires_at, record FROM signal_ids WHERE signal_id = ?",
                (signal.signal_id,),
            ).fetchone()
            if row is not None and int(row[0]) > signal.sent_at:
                return Signal.from_json(json.loads(row[1])), False
            conn.execute(
                "INSERT OR REPLACE INTO signal_ids (signal_id, expires_at, record)"
                " VALUES (?, ?, ?)",
                (signal.signal_id, signal.expires_at, record),
            )
            conn.execute(
                "INSERT OR REPLACE INTO signals (name, sent_at, signal_id, expires_at, record)"
                " VALUES (?, ?, ?, ?, ?)",
                (signal.name, signal.sent_at, signal.signal_id, signal.expires_at, record),
            )
            conn.execute(
                "DELETE FROM signals WHERE name = ? AND expires_at <= ?",
                (signal.name, signal.sent_at),
            )
        return signal, True

    def find(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        limit: int = 1,
    ) -> list[Signal]:
        found: list[Signal] = []
        before: tuple[int, str] | None = None
        floor = since if since is not None else -(2**62)
        while len(found) < limit:
            with self.db.query() as conn:
                if before is None:
                    rows = conn.execute(
                        "SELECT sent_at, signal_id, record FROM signals WHERE name = ?"
                        " AND sent_at >= ? AND expires_at > ?"
                        " ORDER BY sent_at DESC, signal_id DESC LIMIT ?",
                        (name, floor, now, _PAGE),
                    ).fetchall()
                else:
                    rows = conn.execute(
                        "SELECT sent_at, signal_id, record FROM signals WHERE name = ?"
                        " AND sent_at >= ? AND expires_at > ? AND (sent_at, signal_id) < (?, ?)"
                        " ORDER BY sent_at DESC, signal_id DESC LIMIT ?",
                        (name, floor, now, before[0], before[1], _PAGE),
                    ).fetchall()
            for sent_at, sid, record in rows:
                signal = Signal.from_json(json.loads(record))
                if matches(signal, conditions, since=since):
                    found.append(signal)
                before = (int(sent_at), str(sid))
            if len(rows) < _PAGE:
                break
        return found[:limit]

    def add_waiter(self, name: str, waiter: Waiter, expires_at: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO signal_waiters (name, run_id, step, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (name, waiter.run_id, waiter.step, expires_at),
            )

    def waiters(self, name: str, now: int) -> list[Waiter]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT run_id, step FROM signal_waiters WHERE name = ? AND expires_at > ?"
                " ORDER BY run_id, step",
                (name, now),
            ).fetchall()
        return [Waiter(str(r[0]), str(r[1])) for r in rows]

    def remove_waiter(self, name: str, waiter: Waiter) -> None:
        with self.db.write() as conn:
            conn.execute(
                "DELETE FROM signal_waiters WHERE name = ? AND run_id = ? AND step = ?",
                (name, waiter.run_id, waiter.step),
            )

    def consume(
        self,
        consumer: str,
        signal_ids: Sequence[str],
        group: str,
        expires_at: int,
        made_at: int | None = None,
    ) -> bool:
        with self.db.write() as conn:  # one transaction: all or none
            for sid in signal_ids:
                row = conn.execute(
                    "SELECT grp FROM signal_consumed WHERE consumer = ? AND signal_id = ?",
                    (consumer, sid),
                ).fetchone()
                if row is not None and row[0] != group:
                    return False  # nothing was written yet: the checks come first
            conn.executemany(
                "INSERT OR IGNORE INTO signal_consumed"
                " (consumer, signal_id, grp, expires_at, made_at) VALUES (?, ?, ?, ?, ?)",
                [(consumer, sid, group, expires_at, made_at) for sid in signal_ids],
            )
        return True

    def consumed_by(self, consumer: str, signal_id: str) -> str | None:
        with self.db.query() as conn:
            row = conn.execute(
                "SELECT grp FROM signal_consumed WHERE consumer = ? AND signal_id = ?",
                (consumer, signal_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def marks(self, consumer: str, keys: Sequence[str]) -> dict[str, ConsumedMark]:
        if not keys:
            return {}
        marks = ", ".join("?" for _ in keys)
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT signal_id, grp, expires_at, made_at FROM signal_consumed"
                f" WHERE consumer = ? AND signal_id IN ({marks})",
                (consumer, *keys),
            ).fetchall()
        return {
            str(r[0]): ConsumedMark(str(r[1]), int(r[2]), None if r[3] is None else int(r[3]))
            for r in rows
        }

    def get(self, signal_id: str, *, now: int) -> Signal | None:
        with self.db.query() as conn:
            row = conn.execute(
                "SELECT record FROM signal_ids WHERE signal_id = ? AND expires_at > ?",
                (signal_id, now),
            ).fetchone()
        return None if row is None else Signal.from_json(json.loads(row[0]))
