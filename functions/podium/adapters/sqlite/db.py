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

Opening a home reads its schema first and takes the write lock only to create or upgrade
it, so a command that only reads works while another process holds the write lock, and
on a home it may not write (one an older Podium made is read as upgraded, without the
upgrade: ``read_as_upgraded``). SQLite's errors about the file itself (locked past the
busy timeout, read-only, damaged, not a database) become ``HomeError``s that name the
file and what to do: the CLI prints them in a line, ``podium dev`` answers them 503. So
is a home whose schema number is newer than ``SCHEMA_VERSION`` (written by a newer,
incompatible Podium): refused before anything reads or writes it.

A lock is waited for ``BUSY_TIMEOUT_MS`` (30 s: a command or an engine worker would
rather wait than fail), or less on a thread inside ``waiting_at_most``: ``podium dev``
serves each request so, and answers one that meets a locked home 503 in seconds, not
after 30 s (local/home_busy.py).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from podium.core.errors import PodiumError, TryAgainLater

BUSY_TIMEOUT_MS = 30_000
SCHEMA_VERSION = 1

# How long a lock is waited for on this thread when less than BUSY_TIMEOUT_MS (None: that).
_patience = threading.local()


@contextmanager
def waiting_at_most(ms: int) -> Iterator[None]:
    """On this thread, wait at most ``ms`` for a home's lock (any Database's), then raise
    ``HomeLocked``: SQLite's busy timeout for the thread's connections, and for a write,
    its turn behind this process's other writers too, both out of the one ``ms``. For a
    request served while another process may hold the lock (a ``podium runs prune``);
    the engine's workers and the commands keep waiting ``BUSY_TIMEOUT_MS``."""
    before = getattr(_patience, "ms", None)
    _patience.ms = max(1, int(ms))
    try:
        yield
    finally:
        _patience.ms = before


def busy_timeout_ms() -> int:
    """How long this thread waits for a lock (``waiting_at_most``, else BUSY_TIMEOUT_MS)."""
    ms = getattr(_patience, "ms", None)
    return BUSY_TIMEOUT_MS if ms is None else int(ms)


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
CREATE TABLE IF NOT EXISTS held_loops (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    reason TEXT NOT NULL,
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
-- adapters/trigger_states.py's table (SqliteTriggerStates), made with the home so that a
-- command reading it takes no write lock.
CREATE TABLE IF NOT EXISTS trigger_states (
    workflow TEXT NOT NULL,
    trigger TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    since INTEGER NOT NULL,
    fired_at INTEGER,
    failed_at INTEGER,
    error TEXT,
    rule TEXT,
    rule_since INTEGER,
    backfill_cancels INTEGER,
    backfills_paused INTEGER,
    enabled_at INTEGER,
    PRIMARY KEY (workflow, trigger)
) WITHOUT ROWID;
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


# Objects the schema makes, and the columns added to tables after their first release
# (a home made before has the table without them): a home that has them all is current.
SCHEMA_OBJECTS = frozenset(
    [
        *re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA),
        "messages_owned",
        "steps_claimed",
    ]
)
ADDED_COLUMNS = (
    ("messages", "owner", "TEXT"),
    # The token (``owners``) of the process whose claim wrote a RUNNING step, and of the
    # process that started a run (its loop iterations and child runs: its root's).
    ("steps", "claimed_by", "TEXT"),
    ("runs", "started_by", "TEXT"),
    ("owners", "seen_at", "INTEGER"),
    # The process as the kernel tells it from a later one given the same pid
    # (queue.py ``process_identity``); NULL where the system cannot say.
    ("owners", "process", "TEXT"),
    # How far the process's clock is ahead of the wall (a `podium run`'s virtual time),
    # to move the times it stamps onto another's clock (clock_offsets.py); NULL: a
    # clock moved by hand, or a process older than the column.
    ("owners", "clock_offset", "INTEGER"),
    ("trigger_states", "failed_at", "INTEGER"),
    ("trigger_states", "error", "TEXT"),
    ("trigger_states", "rule", "TEXT"),
    ("trigger_states", "rule_since", "INTEGER"),
    ("trigger_states", "backfill_cancels", "INTEGER"),
    ("trigger_states", "backfills_paused", "INTEGER"),
    ("trigger_states", "enabled_at", "INTEGER"),
)

# SQLite's primary result codes (the low byte of ``sqlite_errorcode``) about the file.
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT = 3, 5, 6, 8, 10, 11
_FULL, _CANTOPEN, _NOTADB = 13, 14, 26


class HomeError(PodiumError):
    """The home's database file cannot be used as asked; the message names the file and
    what to do. ``exit_code`` is the CLI's; ``code`` the API's (podium dev answers 503)."""

    code = "home_unusable"
    exit_code = 2


class HomeUnreadable(HomeError):
    """The home's file is not an SQLite database, is damaged, or cannot be opened."""


class HomeLocked(HomeError, TryAgainLater):
    """Another process held the home's write lock past the busy timeout (the lock may
    pass: ``podium dev`` answers 503, not 500)."""

    code = "home_locked"

    exit_code = 1  # it may pass: try again


class HomeTooNew(HomeError):
    """The home was written by a newer Podium whose schema this one does not know."""


class HomeReadOnly(HomeError):
    """The home may be read but not written (file or directory permissions, a read-only
    file system)."""


def home_error(path: str, exc: sqlite3.Error) -> HomeError | None:
    """The HomeError for an SQLite error about the file at ``path``, or None for any
    other error (a constraint, a bad statement: the caller's to handle)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == 0 and isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        code = _NOTADB
    home = Path(path).parent
    elsewhere = "or give another home (--home or PODIUM_HOME)"
    if code in (_BUSY, _LOCKED):
        return HomeLocked(
            f"the home at {home} is locked by another process ({exc}; waited"
            f" {busy_timeout_ms() / 1000:g}s): end the other process's write transaction on"
            f" {path} (podium runs prune, a sqlite3 shell, a database browser), then try again"
        )
    if code == _READONLY:
        return read_only(path, exc)
    if code == _CORRUPT:
        return HomeUnreadable(
            f"{path} is damaged ({exc}): restore it from a copy, move it away (the next"
            f" podium run starts a new home there), {elsewhere}"
        )
    if code == _NOTADB:
        return HomeUnreadable(
            f"{path} is not a Podium home's database ({exc}): move it away, {elsewhere}"
        )
    if code == _CANTOPEN and Path(path).is_dir():  # "check that you may read it" misled
        return HomeUnreadable(
            f"{path} is a directory, not a Podium home's database: move it away, {elsewhere}"
        )
    if code == _CANTOPEN and Path(path).is_symlink() and not Path(path).exists():
        # A link to a file that cannot be made (its directory is gone): the home's own
        # directory may well be writable, so "make it writable" misled.
        return HomeUnreadable(
            f"{path} is a link to {os.readlink(path)}, which cannot be created ({exc}):"
            f" point the link at a home's database in a directory that exists, remove it,"
            f" {elsewhere}"
        )
    if code == _CANTOPEN and not Path(path).exists():
        return HomeReadOnly(f"cannot create {path} ({exc}): make {home} writable, {elsewhere}")
    if code in (_PERM, _CANTOPEN):
        return HomeUnreadable(
            f"cannot open {path} ({exc}): check that you may read it and its directory, {elsewhere}"
        )
    if code in (_IOERR, _FULL):
        return HomeUnreadable(f"cannot use {path} ({exc}): check the disk it is on")
    return None


def read_only(path: str, why: object) -> HomeReadOnly:
    """The home at ``path`` (its database file) may not be written, for ``why``."""
    home = Path(path).parent
    return HomeReadOnly(
        f"the home at {home} is read-only ({why}): this command writes to it; make {home}"
        f" and the {Path(path).name} files in it writable, or give another home (--home or"
        " PODIUM_HOME)"
    )


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
        # This process's token in the home's ``owners`` registry, once it registered
        # (adapters/sqlite/queue.py ``Owners``): stamped on the steps it claims, so a
        # sweep in another process knows who runs them.
        self.owner: str | None = None
        # A home this process may not write, read as an immutable file (_connect_first).
        self._immutable = False
        # What each connection to such a home of an older schema runs to read it as
        # upgraded (read_as_upgraded); a thread's connection has run the first N.
        self._stand_ins: list[str] = []
        try:
            conn = self._connect_first()
            self._refuse_a_newer_schema(conn)
            if not self._schema_current(conn):
                self._upgrade(conn)
        except sqlite3.Error as exc:
            problem = home_error(self.path, exc)
            if problem is None:
                raise
            self.close()
            raise problem from None

    def _connect_first(self) -> sqlite3.Connection:
        """The first connection; it says whether the home is read as a snapshot."""
        self._immutable = self._read_only_snapshot()
        return self._connect()

    def _read_only_snapshot(self) -> bool:
        """Whether to read the file as immutable: this process may not write it or its
        directory, and no -wal file holds commits that are not in it yet (nobody has it
        open to write). SQLite cannot read a WAL home in a directory it may not write (it
        makes the -shm file beside it), and on a file it may not write it leaves -shm and
        -wal files that keep the owner from writing once the file is writable again. Such
        a reader sees the home as it was when it opened it."""
        if self.in_memory or not Path(self.path).exists() or Path(self.path + "-wal").exists():
            return False
        writable = os.access(self.path, os.W_OK) and os.access(Path(self.path).parent, os.W_OK)
        return not writable

    def _refuse_a_newer_schema(self, conn: sqlite3.Connection) -> None:
        """A home whose schema number is above ``SCHEMA_VERSION`` was made by a newer
        Podium that changed what its tables mean: reading or writing it here could
        misread or damage it, so it is refused in a line. (A newer Podium that only adds
        to the schema keeps its number, and this one reads its rows: codec.py.)"""
        has_meta = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if has_meta is None:
            return  # a new file, or one made before the schema was numbered
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            return
        found = str(row[0])
        if found.isdigit() and int(found) <= SCHEMA_VERSION:
            return
        self.close()
        raise HomeTooNew(
            f"{self.path} was written by a newer Podium (home schema {found}; this Podium"
            f" knows schema {SCHEMA_VERSION}): upgrade podium (pip install --upgrade podium),"
            " or give another home (--home or PODIUM_HOME)"
        )

    @staticmethod
    def _schema_current(conn: sqlite3.Connection) -> bool:
        """Whether the file has every table, index and column this version uses, read
        without the write lock (a reader must not wait for a writer)."""
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if SCHEMA_OBJECTS - names:
            return False
        for table, column, _ in ADDED_COLUMNS:
            if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                return False
        return conn.execute("SELECT 1 FROM meta WHERE key = 'schema'").fetchone() is not None

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Create what is missing; on a home this process may not write (the upgrade is a
        write), read it as upgraded instead: a command that reads needs no upgrade."""
        if not self._immutable:
            self._create_schema(conn)
            return
        self.read_as_upgraded(SCHEMA, ADDED_COLUMNS)  # its indexes: not needed to read

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """Create what is missing (a new home, or one made by an older version) under
        the write lock; another process may be doing the same: every step is idempotent."""
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                for table, column, kind in ADDED_COLUMNS:
                    columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                    if column not in columns:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS messages_owned"
                    " ON messages (queue, owner, visible_at, id)"
                )
                # The RUNNING steps a process's claim wrote (a few, in a home of any
                # size): whose claimant left is looked for every second (queue.py
                # ``Owners.abandoned_claims``).
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS steps_claimed"
                    " ON steps (claimed_by) WHERE claimed_by IS NOT NULL"
                )
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                    (str(SCHEMA_VERSION),),
                )
            except BaseException:
                _rollback(conn)
                raise
            conn.execute("COMMIT")

    @property
    def snapshot(self) -> bool:
        """Whether the home is read as an immutable snapshot: this process may not write
        it (an adapter then reads its older tables as upgraded: ``read_as_upgraded``)."""
        return self._immutable

    def read_as_upgraded(self, schema: str, added: Iterable[tuple[str, str, str]] = ()) -> None:
        """Read a snapshot of a home made by an older Podium as if ``schema``'s tables and
        the ``added`` columns (table, column, type as ADD COLUMN gives it) were there,
        writing nothing (the upgrade is a write; the first process that may write the
        home makes it). On each connection of this process, a table the file lacks is
        an empty TEMP table, and a table lacking added columns a TEMP view of it with
        them: NULL, or their DEFAULT, what ADD COLUMN gives the rows already there.
        SQLite looks a name up in temp before main, so the readers' SQL is unchanged.
        Each table's added columns in one call (a second view of a table is not made)."""
        if not self._immutable:  # a home this process may write is upgraded instead
            raise RuntimeError(f"{self.path} is not read as a snapshot: upgrade it")
        with self.query() as conn:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")
            }
            stand_ins: list[str] = []
            for statement in schema.split(";"):
                made = re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
                if made is not None and made[1] not in tables:
                    temp = f"CREATE TEMP TABLE IF NOT EXISTS {made[1]}"
                    stand_ins.append(statement.replace(made[0], temp))
            missing: dict[str, list[str]] = {}
            for table, column, kind in added:
                has = {row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")}
                if table in tables and column not in has:
                    default = re.search(r"DEFAULT\s+('[^']*'|\S+)", kind)
                    value = default[1] if default is not None else "NULL"
                    missing.setdefault(table, []).append(f"{value} AS {column}")
            for table, columns in missing.items():
                stand_ins.append(
                    f"CREATE TEMP VIEW IF NOT EXISTS {table} AS"
                    f" SELECT *, {', '.join(columns)} FROM main.{table}"
                )
            for statement in stand_ins:
                conn.execute(statement)
        self._stand_ins += stand_ins
        self._local.stood_in = len(self._stand_ins)

    def has_table(self, table: str, columns: Iterable[str] = ()) -> bool:
        """Whether ``table`` exists with ``columns``, read without the write lock: an
        adapter with tables of its own creates them only when they are missing."""
        with self.query() as conn:
            found = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        return bool(found) and set(columns) <= found

    # connections -------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        target = self.path
        if self._immutable:
            target = Path(self.path).absolute().as_uri() + "?immutable=1"
        conn = sqlite3.connect(
            target,
            timeout=busy_timeout_ms() / 1000,
            isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            check_same_thread=False,  # one per thread anyway; close() may run elsewhere
            factory=_Connection,
            uri=self._immutable,
        )
        try:
            self._configure(conn)
        except BaseException:
            conn.close()
            raise
        self._connections.add(conn)
        return conn

    def _configure(self, conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms()}")
        if self._immutable:  # read_as_upgraded's TEMP tables: in memory, not beside it
            conn.execute("PRAGMA temp_store = MEMORY")
        if not self.in_memory and not self._immutable:
            _switch_to_wal(conn)
            # NORMAL in WAL mode: a commit survives a crash of the process (the OS has it);
            # only a power cut may lose the last commits, never corrupt the file.
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")

    def _connect(self, busy_ms: int | None = None) -> sqlite3.Connection:
        """This thread's connection, waiting ``busy_ms`` for a lock (default: the
        thread's busy_timeout_ms)."""
        if self._closed:
            raise RuntimeError(f"database {self.path} is closed")
        if self.in_memory:  # no other process: nobody else's lock to wait for
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        wanted = busy_timeout_ms() if busy_ms is None else busy_ms
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            self._local.busy_ms = busy_timeout_ms()
            self._local.stood_in = 0
        if self._local.busy_ms != wanted:  # a thread that served a request before, say
            conn.execute(f"PRAGMA busy_timeout = {wanted}")
            self._local.busy_ms = wanted
        if self._local.stood_in < len(self._stand_ins):  # an older home read as upgraded
            for statement in self._stand_ins[self._local.stood_in :]:
                conn.execute(statement)
            self._local.stood_in = len(self._stand_ins)
        return conn

    @contextmanager
    def _writers_turn(self) -> Iterator[int | None]:
        """This process's turn to write (its writers take turns on a lock first). Yields
        how long SQLite may still wait for the file's lock: None for the thread's usual
        wait, or under ``waiting_at_most`` what is left of it once the turn came. A turn
        that does not come in time is HomeLocked: the writer ahead is waiting for
        another process's lock, most likely."""
        patience = getattr(_patience, "ms", None)
        if patience is None:
            with self._write_lock:
                yield None
            return
        began = time.monotonic()
        if not self._write_lock.acquire(timeout=patience / 1000):
            home = Path(self.path).parent
            raise HomeLocked(
                f"the home at {home} is locked by another process (this process's writes"
                f" are queued behind one waiting for the lock; waited {patience / 1000:g}s):"
                f" end the other process's write transaction on {self.path} (podium runs"
                " prune, a sqlite3 shell, a database browser), then try again"
            )
        try:
            yield max(1, patience - int((time.monotonic() - began) * 1000))
        finally:
            self._write_lock.release()

    def _refuse_to_write_an_older_home(self) -> None:
        """A snapshot read as upgraded is not written: its tables are not the ones the
        writers' SQL names (a TEMP table would take the rows and lose them)."""
        if self._stand_ins:
            raise read_only(
                self.path,
                "this process may not write it, nor so upgrade it from an older Podium's"
                " schema: the first command that may write it does",
            )

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction; an exception rolls everything back."""
        self._refuse_to_write_an_older_home()
        with self._writers_turn() as left_ms, self._said_of_the_file():
            conn = self._connect(left_ms)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                _rollback(conn)
                raise
            conn.execute("COMMIT")

    def vacuum(self) -> None:
        """Rewrite the file without its free pages (SQLite's VACUUM): what deleted rows
        held goes back to the disk at the next checkpoint. Holds the write lock
        throughout (other writers wait), and needs free disk of about the file's size in
        the temporary directory and again for the -wal file."""
        self._refuse_to_write_an_older_home()
        with self._writers_turn() as left_ms, self._said_of_the_file():
            self._connect(left_ms).execute("VACUUM")

    def checkpoint(self) -> bool:
        """Copy the -wal file into the database and empty it (a TRUNCATE checkpoint, as
        the last connection to close does): after a VACUUM, the file shrinks now, not
        whenever every process has closed it. False when a reader kept it from
        finishing: a later checkpoint does."""
        if self.in_memory or self._immutable:
            return True
        with self._writers_turn() as left_ms, self._said_of_the_file():
            row = self._connect(left_ms).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not row[0]

    def free_bytes(self) -> int:
        """The bytes of the file's free pages: deleted rows' space, kept for new rows (the
        file does not shrink without a VACUUM)."""
        with self.query() as conn:
            pages = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
            return pages * int(conn.execute("PRAGMA page_size").fetchone()[0])

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs (one SELECT needs no transaction)."""
        if self.in_memory:
            with self._write_lock:
                yield self._connect()
            return
        with self._said_of_the_file():
            conn = self._connect()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def query(self) -> Iterator[sqlite3.Connection]:
        """A connection for single statements (autocommit)."""
        if self.in_memory:
            with self._write_lock:
                yield self._connect()
            return
        with self._said_of_the_file():
            yield self._connect()

    @contextmanager
    def _said_of_the_file(self) -> Iterator[None]:
        """An SQLite error about the file (locked, read-only, damaged) as a HomeError."""
        try:
            yield
        except sqlite3.Error as exc:
            problem = home_error(self.path, exc)
            if problem is None:
                raise
            raise problem from exc

    def close(self) -> None:
        self._closed = True
        for conn in list(self._connections):
            conn.close()
        self._connections.clear()
        self._shared = None
        self._local = threading.local()


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back what is left: SQLite may have rolled back already (a full disk, a busy
    statement), and a second ROLLBACK would hide the first error."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """WAL mode, waiting for a lock like any write. Changing the journal mode of a new
    file needs it alone, and SQLite answers "database is locked" at once, without its
    busy handler, when another process opens the same new home at that moment."""
    deadline = time.monotonic() + busy_timeout_ms() / 1000
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
