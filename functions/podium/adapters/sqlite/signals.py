"""Signals in the local home: a row per signal (by name and time), a row per identity
(the de-duplication), waiters and consumption marks. Expired rows are skipped by reads;
the next send of the same name deletes its expired signals (head and identity row) and
waiters (the table's TTL, done by hand); ``podium runs prune`` deletes every expired
row, consumption marks (small rows keyed by consumer) included (``delete_expired``).

As on DynamoDB (adapters/dynamo_signals.py), the rows a find reads hold no payload: a
``signals`` row's record is the signal's head (the signal without its payload, and
``has_payload``), and the whole signal is its ``signal_ids`` row, read for the signals a
find returns (``find_heads`` reads none; ``whole`` reads them for chosen heads). A row
written before (its record the whole signal, with ``payload``) is read as it is, and is
the only kind a consumption mark of the signal id alone (made before marks named
instances) may be for. A waiter's ``missed_at`` is when a check of its wait last found
no match. Marks are read _IDS_PER_STATEMENT keys a statement."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from podium.adapters.sqlite.db import Database, dumps
from podium.core.engine.signals import (
    ConsumedMark,
    HeadPage,
    ParamMatch,
    Signal,
    SignalHead,
    Waiter,
    matches,
)

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
    missed_at INTEGER,
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

# Columns added after the tables' first release (a home made before lacks them).
ADDED_COLUMNS = (
    ("signal_consumed", "grp", "TEXT NOT NULL DEFAULT ''"),  # groups were not kept
    ("signal_consumed", "made_at", "INTEGER"),  # nor their time (NULL: an old mark)
    ("signal_waiters", "missed_at", "INTEGER"),  # nor a wait's checks
)

_FIRST_FILTERED_PAGE = 16
_MAX_PAGE = 1_000
_IDS_PER_STATEMENT = 200  # under SQLite's cap on a statement's parameters


def _tables_current(db: Database) -> bool:
    return (
        db.has_table("signals")
        and db.has_table("signal_ids")
        and db.has_table("signal_waiters", ("missed_at",))
        and db.has_table("signal_consumed", ("grp", "made_at"))
    )


def _head_record(signal: Signal) -> str:
    head = signal.as_json()
    del head["payload"]
    head["has_payload"] = signal.payload is not None
    return dumps(head)


def _read_row(record: str) -> SignalHead:
    """A ``signals`` row's signal: whole when its payload is in it, or it has none. A
    row in the current layout (``has_payload``) was written by a release that marks
    signal instances only: no mark of its id alone is its (``SignalHead.id_marks``)."""
    data = json.loads(record)
    old = "has_payload" not in data  # an old row: its record holds "payload"
    whole = old or not data["has_payload"]
    return SignalHead(Signal.from_json(data), whole, id_marks=old)


class SqliteSignals:
    def __init__(self, db: Database) -> None:
        self.db = db
        if _tables_current(db):
            return  # no write lock: a command that only reads must not wait for a writer
        if db.snapshot:  # a home this process may not write: read as upgraded, no write
            db.read_as_upgraded(SCHEMA, ADDED_COLUMNS)
            return
        with db.write() as conn:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table, column, kind in ADDED_COLUMNS:
                columns = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in columns:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

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
                (
                    signal.name,
                    signal.sent_at,
                    signal.signal_id,
                    signal.expires_at,
                    _head_record(signal),
                ),
            )
            # The name's expired signals go whole (the table's TTL, done by hand): the
            # identity rows that hold them (payload included) first, unless a newer
            # signal took the id again, then the heads; and the name's expired waiters.
            conn.execute(
                "DELETE FROM signal_ids WHERE expires_at <= ? AND signal_id IN"
                " (SELECT signal_id FROM signals WHERE name = ? AND expires_at <= ?)",
                (signal.sent_at, signal.name, signal.sent_at),
            )
            conn.execute(
                "DELETE FROM signals WHERE name = ? AND expires_at <= ?",
                (signal.name, signal.sent_at),
            )
            conn.execute(
                "DELETE FROM signal_waiters WHERE name = ? AND expires_at <= ?",
                (signal.name, signal.sent_at),
            )
        return signal, True

    def delete_expired(self, now: int) -> int:
        """The home's TTL for signals, done by ``podium runs prune``: every expired
        signal (its identity row with the payload, and its head), waiter and
        consumption mark, of every name (a send deletes its own name's signals and
        waiters only, and no mark). Returns the rows deleted."""
        deleted = 0
        with self.db.write() as conn:
            for table in ("signal_ids", "signals", "signal_waiters", "signal_consumed"):
                deleted += conn.execute(
                    f"DELETE FROM {table} WHERE expires_at <= ?", (now,)
                ).rowcount
        return deleted

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
        # Pages as DynamoDB's (adapters/dynamo_signals.py): what is still needed when
        # nothing is filtered, else at least _FIRST_FILTERED_PAGE, doubling.
        page = min(max(limit, _FIRST_FILTERED_PAGE) if conditions else max(limit, 1), _MAX_PAGE)
        while len(found) < limit:
            with self.db.query() as conn:
                rows = _head_rows(conn, name, floor, now, before, page)
                heads = [_read_row(str(record)) for _, _, record in rows]
                pending = [h for h in heads if matches(h.signal, conditions, since=since)]
                while pending and len(found) < limit:
                    wanted = limit - len(found)
                    found.extend(_whole(conn, pending[:wanted]))
                    pending = pending[wanted:]
            if rows:
                before = (int(rows[-1][0]), str(rows[-1][1]))
            if len(rows) < page:
                break
            page = min(max(2 * page, limit - len(found)), _MAX_PAGE)
        return found[:limit]

    def find_heads(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        before: tuple[int, str] | None = None,
        size: int,
    ) -> HeadPage:
        floor = since if since is not None else -(2**62)
        size = max(size, 1)
        with self.db.query() as conn:
            rows = _head_rows(conn, name, floor, now, before, size)
        heads = [_read_row(str(record)) for _, _, record in rows]
        kept = [h for h in heads if matches(h.signal, conditions, since=since)]
        # A full page may be the last one: the next read then finds nothing (one query).
        more = (int(rows[-1][0]), str(rows[-1][1])) if len(rows) == size else None
        return HeadPage(kept, more)

    def whole(self, heads: Sequence[SignalHead]) -> list[Signal]:
        if all(h.whole for h in heads):
            return [h.signal for h in heads]
        with self.db.query() as conn:
            return _whole(conn, heads)

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

    def last_miss(self, name: str, waiter: Waiter) -> int | None:
        with self.db.query() as conn:
            row = conn.execute(
                "SELECT missed_at FROM signal_waiters WHERE name = ? AND run_id = ? AND step = ?",
                (name, waiter.run_id, waiter.step),
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def note_miss(self, name: str, waiter: Waiter, at: int) -> None:
        with self.db.write() as conn:  # only a waiter still there, only forward
            conn.execute(
                "UPDATE signal_waiters SET missed_at = ? WHERE name = ? AND run_id = ?"
                " AND step = ? AND (missed_at IS NULL OR missed_at < ?)",
                (at, name, waiter.run_id, waiter.step, at),
            )

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
        unique = list(dict.fromkeys(keys))
        rows: list[Any] = []
        with self.db.query() as conn:
            # A statement of _IDS_PER_STATEMENT keys (and the consumer) at most: SQLite
            # refuses one with more parameters than its build allows (999 before 3.32).
            # No snapshot across chunks is needed: marks are only added, and one a chunk
            # misses is refused by the consume it would have saved.
            for start in range(0, len(unique), _IDS_PER_STATEMENT):
                chunk = unique[start : start + _IDS_PER_STATEMENT]
                marks = ", ".join("?" for _ in chunk)
                rows.extend(
                    conn.execute(
                        "SELECT signal_id, grp, expires_at, made_at FROM signal_consumed"
                        f" WHERE consumer = ? AND signal_id IN ({marks})",
                        (consumer, *chunk),
                    ).fetchall()
                )
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


def _whole(conn: sqlite3.Connection, heads: Sequence[SignalHead]) -> list[Signal]:
    """The signals of ``heads``, in order, their payloads read from their identity rows.
    One whose identity now holds another signal (it expired, and its id was sent again
    since) is left out."""
    ids = sorted({h.signal.signal_id for h in heads if not h.whole})
    stored: dict[str, Signal] = {}
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        marks = ", ".join("?" for _ in chunk)
        for (record,) in conn.execute(
            f"SELECT record FROM signal_ids WHERE signal_id IN ({marks})", chunk
        ):
            signal = Signal.from_json(json.loads(record))
            stored[signal.signal_id] = signal
    out: list[Signal] = []
    for head in heads:
        if head.whole:
            out.append(head.signal)
            continue
        found = stored.get(head.signal.signal_id)
        if found is not None and found.sent_at == head.signal.sent_at:
            out.append(found)
    return out


def _head_rows(
    conn: sqlite3.Connection,
    name: str,
    floor: int,
    now: int,
    before: tuple[int, str] | None,
    size: int,
) -> list[Any]:
    """One page of unexpired signal rows of ``name``, newest first: sent at or after
    ``floor`` and, with ``before``, older than that (sent_at, signal_id)."""
    older = " AND (sent_at, signal_id) < (?, ?)" if before is not None else ""
    return conn.execute(
        "SELECT sent_at, signal_id, record FROM signals WHERE name = ?"
        " AND sent_at >= ? AND expires_at > ?"
        + older
        + " ORDER BY sent_at DESC, signal_id DESC LIMIT ?",
        (name, floor, now, *(before or ()), size),
    ).fetchall()
