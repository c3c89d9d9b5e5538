"""Times on one home stamped by processes whose clocks differ.

``podium run`` keeps virtual time: its clock jumps over sleeps and retry delays, so once
it skipped a day's sleep it reads a day ahead of the wall, while ``podium dev`` and the
other commands keep real time. Each process stamps the home with its own clock: a
message's ``visible_at`` and a long wait's due time (``nb``), a RUNNING step's start and
lease, a run's next check. Read by a process whose clock is ahead, such a time is early
(harmless: a timer that fires early waits again); read by one whose clock is behind, it
is late by the difference: a day of real time for the start message a ``podium run``
sends ``podium dev``, or for the 5-second sleep a killed ``podium run`` left.

So each owner records how far its clock is ahead of the wall (``owners.clock_offset``:
at registration, at each heartbeat, after each jump of its clock), and a time handed
from one process to another is moved by the difference of their offsets (``shift``):
a message sent to another live process (queue.py ``_owner_for``), what a dead process
left to the one that adopts it, and what a stopping process leaves unowned (moved to
wall time, the clock of the commands that register no owner) (``rebase``).

A clamp (due at most its delay after the receiver's now) would not do: a message's delay
is known on the sender's clock only, and a sleep ends at its step's start plus its
length, whatever its timer message says: both need the sender's offset anyway.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from podium.adapters.clock import ManualClock, SystemClock
from podium.core.ports import Clock

# What a step claimed RUNNING measures on its claimant's clock: its runtime's start (a
# sleep ends at it plus its length) and its lease (when the sweeper takes it for lost).
_CLAIM_TIMES = ("started_at", "lease_until")


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def clock_offset(clock: Clock) -> int | None:
    """How far ``clock`` is ahead of the wall, in ms. None for a clock moved by hand
    (tests, the simulation): it keeps no relation to the wall, so its times are never
    moved (as before offsets were kept)."""
    if isinstance(clock, ManualClock):
        return None
    if isinstance(clock, SystemClock):
        return 0
    return clock.now_ms() - wall_ms()


def shift(source: int | None, target: int | None) -> int:
    """What moves a time from the clock of offset ``source`` onto that of ``target``
    (0 when either is unknown). A millisecond is none: an offset is two reads of the time
    (``clock_offset``), which may be a millisecond apart."""
    if source is None or target is None or abs(target - source) <= 1:
        return 0
    return target - source


def moved(message: Mapping[str, Any], by: int) -> Mapping[str, Any]:
    """A message sent onto another clock: its due time (``nb``, a long wait's) moved."""
    nb = message.get("nb")
    if not by or not isinstance(nb, int):
        return message
    return {**message, "nb": nb + by}


def rebase(conn: sqlite3.Connection, token: str | None, by: int, now: int) -> None:
    """Move what the process registered as ``token`` stamped on the home by ``by`` ms,
    onto another clock whose time is ``now``: its queued messages (due no earlier than
    ``now``), the steps its claims wrote RUNNING, the next checks of its unsettled runs.
    ``token`` None: the unowned messages only (those of processes that stopped, on wall
    time: their claims and runs were moved when they stopped). Dead letters wait for
    nobody's clock."""
    if not by:
        return
    owned = "owner IS NULL" if token is None else "owner = ?"
    conn.execute(
        "UPDATE messages SET visible_at = MAX(visible_at + ?, ?),"
        " body = CASE WHEN json_valid(body) AND json_type(body, '$.nb') = 'integer'"
        " THEN json_set(body, '$.nb', json_extract(body, '$.nb') + ?) ELSE body END"
        f" WHERE {owned} AND queue NOT LIKE '%-dlq'",
        (by, now, by, *(() if token is None else (token,))),
    )
    if token is None:
        return
    steps = conn.execute(
        "SELECT run_id, step, record FROM steps WHERE claimed_by = ?", (token,)
    ).fetchall()
    for run_id, step, record in steps:
        conn.execute(
            "UPDATE steps SET record = ? WHERE run_id = ? AND step = ?",
            (_moved_record(record, _CLAIM_TIMES, by), run_id, step),
        )
    runs = conn.execute(
        "SELECT run_id, record FROM runs WHERE active > 0 AND started_by = ?", (token,)
    ).fetchall()
    for run_id, record in runs:
        conn.execute(
            "UPDATE runs SET record = ? WHERE run_id = ?",
            (_moved_record(record, ("check_at",), by), run_id),
        )


def _moved_record(record: str, names: tuple[str, ...], by: int) -> str:
    values = json.loads(record)
    for name in names:
        if isinstance(values.get(name), int):
            values[name] += by
    return json.dumps(values, separators=(",", ":"))
