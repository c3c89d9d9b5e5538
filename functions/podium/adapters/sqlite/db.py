"""One SQLite database file: connections, transactions and the schema of the local home.

WAL mode, so readers never block the writer and several processes can share one file
(``podium run`` in one terminal, ``podium runs show`` in another). Every write is a
``BEGIN IMMEDIATE`` transaction: it takes the file's write lock before reading what its
conditions need, so a check and the write that depends on it cannot interleave with
another writer (the way one DynamoDB transaction is atomic). Inside one process the
writers of all threads queue on a lock first (SQLite's busy handler sleeps in coarse
steps; a lock wakes the next writer at once); ``busy_timeout`` covers other processes.

Each thread has its own connection (sqlite3 connections must not be shared between
threads); an in-memory database has a single connection behind the same lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from podium.core.errors import PodiumError

BUSY_TIMEOUT_MS = 30_000
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workflow_heads (
    name TEXT PRIMARY KEY,
    latest INTEGER NOT NULL,
    active INTEGER NOT NULL,
    digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workflow_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    document BLOB NOT NULL,
    digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS breakpoints (
    workflow TEXT NOT NULL,
    step TEXT NOT NULL,
    PRIMARY KEY (workflow, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    active INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs (workflow, created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (created_at, run_id);
CREATE INDEX IF NOT EXISTS runs_active ON runs (run_id) WHERE active = 1;
-- Unsettled runs, watched or not (a loop's running children: store.running_children).
CREATE INDEX IF NOT EXISTS runs_unsettled ON runs (run_id) WHERE active > 0;
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS arrivals (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    pred INTEGER NOT NULL,
    PRIMARY KEY (run_id, step, pred)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sinks (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS closed_loops (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS opened_loops (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    hi INTEGER NOT NULL,
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sink_counts (
    run_id TEXT PRIMARY KEY,
    n INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, at, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS slots (
    workflow TEXT PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0,
    blocked_by TEXT
);
CREATE TABLE IF NOT EXISTS slot_holders (
    workflow TEXT NOT NULL,
    run_id TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (workflow, run_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_queue (
    workflow TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (workflow, created_at, run_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS permit_keys (
    key TEXT PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0,
    w INTEGER NOT NULL DEFAULT 0,
    lim INTEGER
);
CREATE TABLE IF NOT EXISTS permit_holders (
    key TEXT NOT NULL,
    holder TEXT NOT NULL,
    lease INTEGER NOT NULL,
    PRIMARY KEY (key, holder)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS permit_queue (
    key TEXT NOT NULL,
    since INTEGER NOT NULL,
    holder TEXT NOT NULL,
    PRIMARY KEY (key, since, holder)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, visible_at, id);
CREATE TABLE IF NOT EXISTS owners (
    token TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS logs (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (run_id, step, attempt, seq)
) WITHOUT ROWID;
"""


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced: a thread's connection is closed when
    the thread ends (its thread-local goes), and ``close`` closes those still open."""


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class HomeUnreadable(PodiumError):
    """The home's file is not an SQLite database (or not one Podium can use)."""


class Database:
    """A SQLite file (or ``:memory:``) shared by the store, its views and the queues."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.in_memory = self.path == ":memory:"
        if not self.in_memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._connections: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._shared: sqlite3.Connection | None = None
        self._closed = False
        try:
            self._create_schema()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise  # another process holds it: not a bad file
            raise HomeUnreadable(
                f"{self.path} is not a Podium home's database ({exc}): move it away, or"
                " give another home (--home or PODIUM_HOME)"
            ) from None

    def _create_schema(self) -> None:
        conn = self._connect()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
            if "owner" not in columns:  # a home made before messages had owners
                conn.execute("ALTER TABLE messages ADD COLUMN owner TEXT")
            owner_columns = {row[1] for row in conn.execute("PRAGMA table_info(owners)")}
            if "seen_at" not in owner_columns:  # ... and before owners had heartbeats
                conn.execute("ALTER TABLE owners ADD COLUMN seen_at INTEGER")
            conn.execute(
                "CREATE INDEX IF NOT EXISTS messages_owned"
                " ON messages (queue, owner, visible_at, id)"
            )
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),
            )
            conn.execute("COMMIT")

    # connections -------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            check_same_thread=False,  # one per thread anyway; close() may run elsewhere
            factory=_Connection,
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not self.in_memory:
            _switch_to_wal(conn)
            # NORMAL in WAL mode: a commit survives a crash of the process (the OS has it);
            # only a power cut may lose the last commits, never corrupt the file.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        self._connections.add(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError(f"database {self.path} is closed")
        if self.in_memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction; an exception rolls everything back."""
        with self._write_lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs (one SELECT needs no transaction)."""
        if self.in_memory:
            with self._write_lock:
                yield self._connect()
            return
        conn = self._connect()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def query(self) -> Iterator[sqlite3.Connection]:
        """A connection for single statements (autocommit)."""
        if self.in_memory:
            with self._write_lock:
                yield self._connect()
            return
        yield self._connect()

    def close(self) -> None:
        self._closed = True
        for conn in list(self._connections):
            conn.close()
        self._connections.clear()
        self._shared = None
        self._local = threading.local()


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """WAL mode, waiting for a lock like any write. Changing the journal mode of a new
    file needs it alone, and SQLite answers "database is locked" at once, without its
    busy handler, when another process opens the same new home at that moment."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
