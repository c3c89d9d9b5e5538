"""What a `podium run` left on the home kept its virtual clock's times: after it skipped a
day's sleep and was killed (or stopped), the next process on the home (`podium dev`, in
real time) adopted its messages a day ahead of its own time (only a received message's
visibility was brought back), and the RUNNING sleep's start, from which the sleep's end
is reckoned, was a day ahead too: a 5-second sleep it left ended a day later."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import FastForwardClock, SystemClock
from podium.adapters.sqlite import queue as home_queue
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.queue import Owners, SqliteQueue
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from tests.integration.home_processes_support import (
    DAY_MS,
    DAY_S,
    a_day_ahead,
    messages_ahead,
    pump_until,
    seconds_ahead,
    start_podium,
    wait_for,
)

HERE = "tests.integration.test_home_work_left_by_a_process_ahead_is_moved_to_the_adopters_clock"


def _left_by(db: Database, token: str, now: int) -> None:
    """A RUNNING sleep the process claimed (started now, its lease in 10 s) in a run it
    started (its next check in a minute)."""
    with db.write() as conn:
        conn.execute(
            "INSERT INTO runs (run_id, workflow, created_at, status, active, record,"
            " started_by) VALUES ('r', 'w', 0, 'RUNNING', 1, ?, ?)",
            (json.dumps({"status": "RUNNING", "check_at": now + 60_000}), token),
        )
        conn.execute(
            "INSERT INTO steps (run_id, step, record, claimed_by) VALUES ('r', 's', ?, ?)",
            (
                json.dumps(
                    {
                        "status": "RUNNING",
                        "attempt": 1,
                        "started_at": now,
                        "lease_until": now + 10_000,
                    }
                ),
                token,
            ),
        )


def _stored(db: Database) -> tuple[list[tuple[dict[str, Any], int]], dict[str, Any], int]:
    with db.query() as conn:
        messages = [
            (json.loads(body), int(at))
            for body, at in conn.execute("SELECT body, visible_at FROM messages ORDER BY id")
        ]
        step = json.loads(conn.execute("SELECT record FROM steps").fetchone()[0])
        run = json.loads(conn.execute("SELECT record FROM runs").fetchone()[0])
    return messages, step, int(run["check_at"])


def test_what_a_dead_process_a_day_ahead_left_is_adopted_on_the_adopters_clock(
    tmp_path: Path,
) -> None:
    """A process a day ahead left a 5-second timer, an hour's wait (a long timer, with
    its due time in the body), a sleep it claimed and its run's next check, then died:
    adopted in real time, each is due when it was in the dead one's time, not a day
    later."""
    db = Database(tmp_path / "podium.db")
    try:
        ahead = a_day_ahead()
        dead = Owners(db, ahead)
        dead.register()
        left = SqliteQueue(db, "events", ahead, owner=dead.token)
        left.send({"t": "done", "run": "r", "step": "s"}, delay_seconds=5)
        due = ahead.now_ms() + 3_600_000
        left.send_at({"t": "done", "run": "r", "step": "w", "nb": due}, due)
        _left_by(db, dead.token, ahead.now_ms())
        home_queue._OWN_TOKENS.discard(dead.token)  # it died (this pid: not retired)
        dev = Owners(db, SystemClock())
        dev.register()
        assert dev.adopt() == 2
        [(_, timer), (wait, wait_at)], step, check_at = _stored(db)
        now = SystemClock().now_ms()
    finally:
        db.close()
    assert 3 <= seconds_ahead(timer) <= 7, f"the 5 s timer is due {seconds_ahead(timer)}s ahead"
    assert 3_590 <= seconds_ahead(wait_at) <= 3_610
    assert abs(wait["nb"] - wait_at) <= 5, "the long wait's due time kept the dead one's clock"
    assert abs(step["started_at"] - now) <= 5_000, "the sleep's start kept the dead one's clock"
    assert 5_000 <= step["lease_until"] - now <= 10_000
    assert 55_000 <= check_at - now <= 60_000


def test_what_a_process_ahead_leaves_when_it_stops_is_on_wall_time(tmp_path: Path) -> None:
    """A `podium run` a day ahead that stopped (Ctrl-C) left its messages unowned, on its
    clock: nobody could tell its clock once it left the registry. Taken over in real
    time, its 5-second timer was due a day later."""
    db = Database(tmp_path / "podium.db")
    try:
        ahead = a_day_ahead()
        stopped = Owners(db, ahead)
        stopped.register()
        SqliteQueue(db, "events", ahead, owner=stopped.token).send(
            {"t": "done", "run": "r", "step": "s"}, delay_seconds=5
        )
        _left_by(db, stopped.token, ahead.now_ms())
        stopped.retire()
        dev = Owners(db, SystemClock())
        dev.register()
        assert dev.adopt() == 1
        [(_, timer)], step, check_at = _stored(db)
        now = SystemClock().now_ms()
    finally:
        db.close()
    assert 3 <= seconds_ahead(timer) <= 7, f"the 5 s timer is due {seconds_ahead(timer)}s ahead"
    assert abs(step["started_at"] - now) <= 5_000, "the sleep's start kept the stopped one's clock"
    assert 55_000 <= check_at - now <= 60_000


def clock_offsets(event: dict[str, Any]) -> dict[str, Any]:
    """The clock offsets the home's owners registry holds now, as another process reads
    them (a step that runs after a day's sleep)."""
    with sqlite3.connect(event["payload"]["db"]) as conn:
        return {"offsets": [row[0] for row in conn.execute("SELECT clock_offset FROM owners")]}


def test_a_jump_of_the_clock_is_recorded_before_the_next_step_runs(tmp_path: Path) -> None:
    """A `podium run` whose virtual clock jumped over a day's sleep after it registered:
    killed in the step after the sleep, its timers would be adopted a day late, as if it
    had not jumped. The jump is on the home before the step runs."""
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home, clock=FastForwardClock()) as rt:
        view = rt.run(
            {
                "name": "jumps",
                "steps": [
                    {"id": "nap", "type": "sleep", "seconds": DAY_S, "timeout": 2 * DAY_S},
                    {
                        "id": "peek",
                        "type": "lambda",
                        "function": f"{HERE}:clock_offsets",
                        "payload": {"db": str(rt.database)},
                        "depends_on": ["nap"],
                    },
                ],
            }
        )
    peek = next(s for s in view.steps if s.step == "peek")
    assert isinstance(peek.output, dict), (view.run.status, peek)
    (offset,) = peek.output["offsets"]
    assert offset is not None and abs(offset - DAY_MS) <= 60_000, offset


def hold(event: dict[str, Any]) -> dict[str, Any]:
    """Says it started (a marker file) on its first attempt, then runs far longer than
    the test waits; a later attempt returns at once."""
    marker = Path(event["payload"]["marker"])
    with marker.open("a") as f:
        f.write(f"{event['attempt']}\n")
    if event["attempt"] == 1:
        time.sleep(600)
    return {"ok": True}


@pytest.mark.slow
def test_a_short_sleep_a_killed_podium_run_left_ends_on_time_in_dev(tmp_path: Path) -> None:
    """`podium run` (virtual time) skipped a day's sleep, then ran a step and, beside it,
    a 5-second sleep; it was killed mid-step. The next runtime on the home (`podium dev`,
    real time) adopted its messages and retried the step, but the 5-second sleep's timer
    (and its start) were stamped with the killed process's virtual clock, a day ahead:
    the run waited a day of real time for it."""
    home, marker = tmp_path / "home", tmp_path / "started"
    wf = tmp_path / "w.yaml"
    wf.write_text(
        "name: handover\nsteps:\n"
        f"  - {{id: s1, type: sleep, seconds: {DAY_S}, timeout: {2 * DAY_S}}}\n"
        f"  - {{id: x, type: lambda, function: '{HERE}:hold', payload: {{marker: '{marker}'}},"
        " depends_on: [s1]}\n"
        "  - {id: s2, type: sleep, seconds: 5, depends_on: [s1]}\n"
        "  - {id: c, type: noop, depends_on: [x, s2]}\n"
    )
    proc = start_podium(home, "run", str(wf))
    try:
        wait_for(marker, proc, "step x started")
        time.sleep(0.5)  # s2's timer is set (it was ready with x)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    # "podium dev" opens the home: real time; its start adopts and reclaims.
    with LocalRuntime(store="sqlite", home=home, virtual_time=False) as dev:
        (run,) = dev.store.search_runs("handover")
        pump_until(dev, lambda: dev.describe(run.run_id).run.status.terminal, 30)
        view = dev.describe(run.run_id)
        ahead = messages_ahead(dev)
    steps = {s.step: (s.status.value, s.attempt) for s in view.steps}
    assert view.run.status is RunStatus.SUCCEEDED, (
        f"30 s after dev took over: run {view.run.status.value}, steps {steps}; queued"
        f" messages, seconds ahead of wall time: {ahead}"
    )
