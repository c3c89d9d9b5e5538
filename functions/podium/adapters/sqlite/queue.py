"""A message queue with SQS's semantics on SQLite (the home's work and event queues).

The same behaviour as ``adapters.queues.LocalQueue``: at-least-once delivery, a delay of
up to 15 minutes, a visibility timeout, a receive count, and a move to the dead-letter
queue on the receive after ``max_receives``. Messages are rows of the home's database,
so what is queued survives the process: a ``podium run`` stopped half-way leaves its
messages for the next one.

Several processes may work on one home (``podium dev`` and a ``podium run`` in another
terminal, two ``podium run``). A queue made with an ``owner`` (a process's token, see
``Owners``) stamps the messages it sends and receives only those: each process delivers
the work it started (its steps' functions are importable there), and the messages of a
process that died are adopted by the next one (``Owners.adopt``). A message of a run
another live process started goes to that process, whoever sends it (``_owner_for``).
Without an owner a queue sees every message (the contract suite; reading a home).

Each process stamps messages with its own clock, which may be virtual (``podium run``
jumps over sleeps): a message handed to another process, sent or adopted, is moved onto
that one's clock (clock_offsets.py).
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from podium.adapters.queues import SQS_MAX_DELAY_SECONDS, LocalMessage, billed_requests
from podium.adapters.sqlite.clock_offsets import clock_offset, moved, rebase, shift
from podium.adapters.sqlite.clock_offsets import wall_ms as _wall_ms  # not the runtime's clock
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.rows import read_claimant, read_starter
from podium.core.ports import Clock

_KNOWN_STARTERS = 10_000  # runs whose starter a queue remembers (then it reads them again)


def _body(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


class SqliteQueue:
    """One named queue in a home database (see module doc)."""

    def __init__(
        self,
        db: Database,
        name: str,
        clock: Clock,
        *,
        visibility_timeout_seconds: int = 60,
        max_receives: int = 5,
        dead_letters: SqliteQueue | None = None,
        owner: str | None = None,
    ) -> None:
        self._db: Database = db
        if dead_letters is not None and dead_letters._db is not db:
            raise ValueError("a dead-letter queue must live in the same database")
        self.name = name
        self.owner = owner
        self._clock = clock
        self._visibility_ms = visibility_timeout_seconds * 1000
        self._max_receives = max_receives
        self._dlq = dead_letters
        # run id -> the token of the process that started its tree (rows.read_starter)
        self._starters: dict[str, str | None] = {}
        self.sent = 0  # messages
        self.send_requests = 0  # what SQS would bill (queues.billed_requests)

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self._put([message], min(delay_seconds, SQS_MAX_DELAY_SECONDS))

    def send_many(self, messages: Sequence[Mapping[str, Any]]) -> None:
        if not messages:
            return
        self._put(messages, 0)

    def send_at(self, message: Mapping[str, Any], due_ms: int) -> None:
        """Deliver at ``due_ms`` however far ahead (no 15-minute cap: the home's timers)."""
        self._put([message], 0, visible=max(due_ms, self._clock.now_ms()))

    def _put(
        self, messages: Sequence[Mapping[str, Any]], delay_seconds: int, visible: int | None = None
    ) -> None:
        if visible is None:
            visible = self._clock.now_ms() + delay_seconds * 1000
        bodies = [_body(m) for m in messages]
        self.send_requests += billed_requests(bodies)
        with self._db.write() as conn:
            rows = []
            for message, body in zip(messages, bodies, strict=True):
                owner, by = self._owner_for(conn, message)
                if by:  # another process's, on its clock (a virtual one may be a day apart)
                    body = _body(moved(message, by))
                rows.append((self.name, body, visible + by, owner))
            conn.executemany(
                "INSERT INTO messages (queue, body, visible_at, owner) VALUES (?, ?, ?, ?)", rows
            )
        self.sent += len(messages)

    def _owner_for(
        self, conn: sqlite3.Connection, message: Mapping[str, Any]
    ) -> tuple[str | None, int]:
        """Who delivers the message: the live process that started its run's tree (its
        steps' functions are mapped there: a queued run admitted by ``podium dev`` when
        a run of dev's ended is ``podium run``'s), else this queue's owner; and by how
        much its times move onto that process's clock (clock_offsets.py)."""
        run = message.get("run")
        if not isinstance(run, str):
            return self.owner, 0
        if run not in self._starters:
            if len(self._starters) >= _KNOWN_STARTERS:
                self._starters.clear()
            self._starters[run] = read_starter(conn, run)  # never changes once started
        starter = self._starters[run]
        if starter is None or starter == self.owner:
            return self.owner, 0
        row = _owner_row(conn, starter)
        if row is None or not _row_alive(row):
            return self.owner, 0
        return starter, shift(clock_offset(self._clock), row[-1])

    def receive(self, max_messages: int = 10) -> list[LocalMessage]:
        out: list[LocalMessage] = []
        with self._db.write() as conn:
            now = self._clock.now_ms()
            while len(out) < max_messages:
                rows = conn.execute(
                    "SELECT id, body, receive_count, generation FROM messages"
                    f" WHERE queue = ?{self._mine} AND visible_at <= ?"
                    " ORDER BY visible_at, id LIMIT ?",
                    (self.name, *self._owner_arg, now, max_messages - len(out)),
                ).fetchall()
                if not rows:
                    break
                for mid, body, count, generation in rows:
                    count += 1
                    if count > self._max_receives and self._dlq is not None:
                        # Dead-lettered: a new message of the DLQ, in the same transaction.
                        conn.execute(
                            "UPDATE messages SET queue = ?, visible_at = ?, receive_count = 0,"
                            " generation = 0 WHERE id = ?",
                            (self._dlq.name, now, mid),
                        )
                        self._dlq.sent += 1
                        continue
                    generation += 1
                    conn.execute(
                        "UPDATE messages SET visible_at = ?, receive_count = ?, generation = ?"
                        " WHERE id = ?",
                        (now + self._visibility_ms, count, generation, mid),
                    )
                    out.append(
                        LocalMessage(f"{self.name}-{mid}", body, count, f"{mid}#{generation}")
                    )
        return out

    def delete(self, receipt: str) -> None:
        mid, _, generation = receipt.rpartition("#")
        with self._db.write() as conn:
            conn.execute(
                "DELETE FROM messages WHERE id = ? AND generation = ? AND queue = ?",
                (int(mid), int(generation), self.name),
            )

    def delete_many(self, receipts: Sequence[str]) -> None:
        """The handled messages of a batch in one write (SQS's DeleteMessageBatch, as
        Lambda's event source mapping deletes a batch's successes)."""
        keys = []
        for receipt in receipts:
            mid, _, generation = receipt.rpartition("#")
            keys.append((int(mid), int(generation), self.name))
        if not keys:
            return
        with self._db.write() as conn:
            conn.executemany(
                "DELETE FROM messages WHERE id = ? AND generation = ? AND queue = ?", keys
            )

    def next_visible_at(self) -> int | None:
        with self._db.query() as conn:
            row = conn.execute(
                f"SELECT MIN(visible_at) FROM messages WHERE queue = ?{self._mine}",
                (self.name, *self._owner_arg),
            ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def timers_by_run(self) -> list[tuple[int, str | None]]:
        """(when the next one is visible, the run it is for) per run with messages here
        (the engine's messages name their run; a schedule's fire names none), soonest
        first: how the embedded runtime tells its own run's timers from others'."""
        with self._db.query() as conn:
            rows = conn.execute(
                "SELECT MIN(visible_at), json_extract(body, '$.run') AS run FROM messages"
                f" WHERE queue = ?{self._mine} AND json_valid(body) GROUP BY run"
                " ORDER BY 1",
                (self.name, *self._owner_arg),
            ).fetchall()
        return [(int(at), None if run is None else str(run)) for at, run in rows]

    @property
    def _mine(self) -> str:
        return " AND owner = ?" if self.owner is not None else ""

    @property
    def _owner_arg(self) -> tuple[str, ...]:
        return (self.owner,) if self.owner is not None else ()

    def __len__(self) -> int:
        with self._db.query() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM messages WHERE queue = ?", (self.name,)
            ).fetchone()
        return int(row[0])

    def bodies(self) -> list[dict[str, Any]]:
        with self._db.query() as conn:
            rows = conn.execute(
                "SELECT body FROM messages WHERE queue = ? ORDER BY id", (self.name,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def purge(self) -> int:
        """Delete every message (``podium run --fresh``); returns how many."""
        with self._db.write() as conn:
            return int(conn.execute("DELETE FROM messages WHERE queue = ?", (self.name,)).rowcount)


# A process on another host (a home on a shared disk, a container) cannot be asked by
# pid: it is alive while it beats (each look it takes at the home, BEAT_EVERY_MS at most),
# and dead once silent this long. Taking over a live one's messages is harmless (each
# claim is conditional), only slower for it.
BEAT_EVERY_MS = 10_000
SILENT_FOR_MS = 10 * 60_000


# The owners this process registered (on any home): a row with this process's pid and
# host and another token was left by a dead process that had the same pid.
_OWN_TOKENS: set[str] = set()


@functools.cache
def _boot_id() -> str | None:
    """This boot of the host (Linux), the same for the process's life."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the process's name (its state first), or None
    where there is no /proc (macOS, Windows) or no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses.
    return stat[stat.rfind(")") + 1 :].split()


def process_identity(pid: int) -> str | None:
    """Which process has ``pid`` now, as the kernel tells them apart: the boot and the
    process's start time in clock ticks since it (Linux's /proc). A pid is reused once its
    process is gone; this is not. None where there is no /proc (macOS, Windows), or no
    such process: then the pid alone is asked (``_alive``)."""
    boot = _boot_id()
    fields = _stat(pid) if boot is not None else None
    # The start time is the 22nd field, the 20th after the name.
    return f"{boot}:{fields[19]}" if fields is not None and len(fields) > 19 else None


def _exited(pid: int) -> bool:
    """Whether the process has ended but is still listed: a zombie (Z) its parent has not
    reaped yet (a script that killed a `podium run` and waits for it later), or one being
    removed (X). Its pid still answers os.kill and /proc still shows its start time, but
    it runs nothing. False where there is no /proc: then the pid alone is asked."""
    fields = _stat(pid)
    return fields is not None and bool(fields) and fields[0] in ("Z", "X")


def _alive(
    pid: int, host: str, seen_at: int | None, token: str, process: str | None = None
) -> bool:
    """Whether the process registered as ``token`` (``pid`` on ``host``, ``process`` its
    ``process_identity`` then) still lives."""
    import os
    import socket

    here = socket.gethostname()
    if host == here and pid == os.getpid():
        # Our own pid: this process, or a dead one whose pid we got (a container's
        # pid 1 under the same hostname, a pod restarted in place). os.kill would
        # answer for us; this process knows the owners it registered.
        return token in _OWN_TOKENS
    if host != here:
        # Another machine's process: alive while it beats (a home made before
        # heartbeats has none: assume it lives).
        return seen_at is None or _wall_ms() - seen_at < SILENT_FOR_MS
    if process is not None:
        # The pid may have been given to another process since (a reboot, a busy host):
        # that one does not deliver the dead one's messages, nor run its steps.
        now = process_identity(pid)
        if now is not None and now != process:
            return False
    if _exited(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The registry's columns as _row_alive reads them, and the owner's clock last (queue).
_OWNER_COLUMNS = "token, pid, host, seen_at, process, clock_offset"


def _owner_row(conn: sqlite3.Connection, token: str) -> Any:
    return conn.execute(f"SELECT {_OWNER_COLUMNS} FROM owners WHERE token = ?", (token,)).fetchone()


def owner_alive(conn: sqlite3.Connection, token: str) -> bool:
    """Whether the process registered on the home as ``token`` still lives (it left the
    registry when it stopped: ``Owners.retire``)."""
    row = _owner_row(conn, token)
    return row is not None and _row_alive(row)


def _row_alive(row: Sequence[Any]) -> bool:
    token, pid, host, seen_at, process = row[:5]
    return _alive(int(pid), str(host), seen_at, str(token), process)


class Owners:
    """The processes that own messages in a home, so each delivers its own work and the
    work of a dead one is adopted rather than lost. A process is known by a token and
    its pid on this host (one whose pid is gone, or now another process's, is dead), or
    by its heartbeat on another host."""

    def __init__(self, db: Database, clock: Clock) -> None:
        import os
        import socket
        import uuid

        self._db = db
        self._clock = clock
        self._pid = os.getpid()
        self._host = socket.gethostname()
        self.token = f"{self._host}:{self._pid}:{uuid.uuid4().hex[:12]}"
        self._beat_at = 0  # when this process last said it lives (wall time)
        self._offset = clock_offset(clock)  # as last written (clock_offsets.py)

    def register(self) -> None:
        _OWN_TOKENS.add(self.token)
        self._db.owner = self.token  # the steps this process claims are stamped with it
        self._beat_at = _wall_ms()
        self._offset = clock_offset(self._clock)
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO owners"
                " (token, pid, host, started_at, seen_at, process, clock_offset)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.token,
                    self._pid,
                    self._host,
                    self._clock.now_ms(),
                    self._beat_at,
                    process_identity(self._pid),
                    self._offset,
                ),
            )

    def _beat(self) -> None:
        now = _wall_ms()
        if now - self._beat_at < BEAT_EVERY_MS:
            return
        self._beat_at = now
        self._offset = clock_offset(self._clock)
        with self._db.write() as conn:
            conn.execute(
                "UPDATE owners SET seen_at = ?, clock_offset = ? WHERE token = ?",
                (now, self._offset, self.token),
            )

    def note_clock(self) -> None:
        """Record this process's clock once it jumped (virtual time skipped a wait): the
        times it stamps from now on are that far ahead, and whoever takes over its
        messages if it dies moves them back by as much (clock_offsets.py). Not waiting
        for the next heartbeat: a kill may come first."""
        offset = clock_offset(self._clock)
        if offset is None or (self._offset is not None and abs(offset - self._offset) <= 1):
            return  # unchanged (two reads of the time may differ by a millisecond)
        self._offset = offset
        with self._db.write() as conn:
            conn.execute("UPDATE owners SET clock_offset = ? WHERE token = ?", (offset, self.token))

    def _others(self) -> list[Any]:
        with self._db.query() as conn:
            return list(
                conn.execute(
                    f"SELECT {_OWNER_COLUMNS} FROM owners WHERE token != ?", (self.token,)
                ).fetchall()
            )

    def others_alive(self) -> bool:
        """Whether another live process owns work in this home."""
        self._beat()
        return any(_row_alive(row) for row in self._others())

    def adopt(self) -> int:
        """Take over the messages of dead processes (and unowned ones); returns how many.
        The dead leave the registry: the steps they claimed are ``abandoned_claims``.

        What they stamped is first moved onto this process's clock (clock_offsets.py):
        the messages, the steps they claimed, their runs' checks (a dead `podium run` may
        have been a day ahead). One such process had received but not deleted is visible
        again at once: nobody works on it any more, so waiting out its visibility timeout
        would only delay it."""
        self._beat()
        dead = [str(row[0]) for row in self._others() if not _row_alive(row)]
        with self._db.write() as conn:
            now = self._clock.now_ms()
            mine = clock_offset(self._clock)
            for token in dead:
                # Read again under the write lock: a row gone was adopted (and moved)
                # already, by another process; moved twice, its times would be off.
                row = conn.execute(
                    "SELECT clock_offset FROM owners WHERE token = ?", (token,)
                ).fetchone()
                if row is not None:
                    rebase(conn, token, shift(row[0], mine), now)
            rebase(conn, None, shift(0, mine), now)  # the unowned: on wall time (retire)
            marks = ", ".join("?" * len(dead))
            which = f"owner IS NULL OR owner IN ({marks})" if dead else "owner IS NULL"
            moved = conn.execute(
                "UPDATE messages SET owner = ?, visible_at = CASE WHEN receive_count > 0"
                " THEN MIN(visible_at, ?) ELSE visible_at END"
                f" WHERE ({which}) AND queue NOT LIKE '%-dlq'",
                (self.token, now, *dead),
            ).rowcount
            if dead:
                conn.execute(f"DELETE FROM owners WHERE token IN ({marks})", dead)
        return int(moved)

    def abandoned_claims(self) -> list[tuple[str, str, str]]:
        """(run, step, claimant) of each step still written RUNNING by the claim of a
        process that left the registry: it stopped (``retire``), or died and was adopted.
        Nobody runs such an attempt in-process any more (service/abandoned.py). Read on
        the partial index of claimed steps (db.py): a look costs what is RUNNING, not the
        home's size."""
        with self._db.query() as conn:
            rows = conn.execute(
                "SELECT run_id, step, claimed_by FROM steps WHERE claimed_by IS NOT NULL"
                " AND claimed_by NOT IN (SELECT token FROM owners)"
            ).fetchall()
        return [(str(run), str(step), str(token)) for run, step, token in rows]

    def claim_of(self, run_id: str, step: str) -> tuple[str, int] | None:
        """(claimant, attempt) of the step's RUNNING claim now; None when no claim names
        a process. Read again just before a reclaim: a claim list is a moment old, and the
        step may have been claimed since by a live process (a new attempt)."""
        with self._db.query() as conn:
            found = read_claimant(conn, run_id, step)
        return (found[1], found[0].attempt) if found is not None else None

    def retire(self) -> None:
        """Leave the registry; messages still owned (an interrupted run) become unowned,
        for the next process on this home to adopt, moved to wall time first (with the
        steps this process claimed and its runs' checks: clock_offsets.py), as nobody
        will know this process's clock once it left. A process that is killed cannot
        retire: its messages are adopted once its pid is gone."""
        with self._db.write() as conn:
            rebase(conn, self.token, shift(clock_offset(self._clock), 0), _wall_ms())
            conn.execute("UPDATE messages SET owner = NULL WHERE owner = ?", (self.token,))
            conn.execute("DELETE FROM owners WHERE token = ?", (self.token,))
        _OWN_TOKENS.discard(self.token)
        if self._db.owner == self.token:
            self._db.owner = None
