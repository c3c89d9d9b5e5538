"""A message sent to another live process on the home was stamped with the sender's
clock: a `podium run` whose virtual clock had skipped a day's sleep admitted the run
`podium dev` had queued behind its own and sent dev the run's start a day ahead of dev's
real time, so dev's run sat RUNNING with no step started for a day (and dev's sweep too
found nothing due)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import SystemClock
from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.queue import Owners, SqliteQueue
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from tests.integration.home_processes_support import (
    DAY_S,
    a_day_ahead,
    messages_ahead,
    pump_until,
    seconds_ahead,
    start_podium,
    wait_for,
)

HERE = "tests.integration.test_home_message_sent_to_another_process_is_on_its_clock"


def _run_started_by(db: Database, run_id: str, token: str) -> None:
    """A run row as a process registered as ``token`` creates it (the runs it starts
    are delivered there: queue.py ``_owner_for``)."""
    with db.write() as conn:
        conn.execute(
            "INSERT INTO runs (run_id, workflow, created_at, status, active, record,"
            " started_by) VALUES (?, 'w', 0, 'RUNNING', 1, '{\"status\":\"RUNNING\"}', ?)",
            (run_id, token),
        )


def _messages(db: Database) -> list[tuple[dict[str, Any], int, str]]:
    with db.query() as conn:
        rows = conn.execute("SELECT body, visible_at, owner FROM messages ORDER BY id")
        return [(json.loads(body), int(at), str(owner)) for body, at, owner in rows]


def test_a_message_sent_to_a_process_on_real_time_is_due_on_its_clock(tmp_path: Path) -> None:
    """A `podium run` a day ahead (virtual time) sent `podium dev` (real time) the start
    of a run of dev's, a 5-second timer and a long wait's timer: each was due a day late
    in dev's time, the long one's due time (nb) too."""
    db = Database(tmp_path / "podium.db")
    try:
        dev = Owners(db, SystemClock())
        dev.register()
        ahead = a_day_ahead()
        run = Owners(db, ahead)
        run.register()
        _run_started_by(db, "dev-run", dev.token)
        events = SqliteQueue(db, "events", ahead, owner=run.token)
        events.send({"t": "start", "run": "dev-run"})
        events.send({"t": "done", "run": "dev-run", "step": "s"}, delay_seconds=5)
        wait_due = ahead.now_ms() + 3_600_000
        events.send_at({"t": "done", "run": "dev-run", "step": "w", "nb": wait_due}, wait_due)
        (start, at_start, owner), (_, at_timer, _), (late, at_late, _) = _messages(db)
        assert owner == dev.token and start["t"] == "start"
        assert abs(seconds_ahead(at_start)) <= 2, (
            f"the start is due {seconds_ahead(at_start)}s ahead"
        )
        assert 3 <= seconds_ahead(at_timer) <= 7, (
            f"a 5 s timer is due {seconds_ahead(at_timer)}s ahead"
        )
        assert 3_590 <= seconds_ahead(at_late) <= 3_610
        assert abs(late["nb"] - at_late) <= 5, (
            "the long wait's due time was left on the sender's clock"
        )
    finally:
        db.close()


def test_a_message_sent_to_a_process_ahead_is_due_on_its_clock(tmp_path: Path) -> None:
    """The other way round: `podium dev` (real time) sending a `podium run` a day ahead
    a 5-second timer: due 5 s after that one's now, not at once."""
    db = Database(tmp_path / "podium.db")
    try:
        ahead = a_day_ahead()
        run = Owners(db, ahead)
        run.register()
        dev = Owners(db, SystemClock())
        dev.register()
        _run_started_by(db, "run-run", run.token)
        SqliteQueue(db, "events", SystemClock(), owner=dev.token).send(
            {"t": "done", "run": "run-run", "step": "s"}, delay_seconds=5
        )
        ((_, at, owner),) = _messages(db)
        assert owner == run.token
        assert 3_000 <= at - ahead.now_ms() <= 6_000, f"due {(at - ahead.now_ms()) / 1000}s ahead"
    finally:
        db.close()


def hold_until_released(event: dict[str, Any]) -> dict[str, Any]:
    """Says it started (a marker file), then runs until the test releases it (a file),
    at most a minute."""
    payload = event["payload"]
    Path(payload["marker"]).write_text(str(socket.gethostname()))
    deadline = time.monotonic() + 60
    while not Path(payload["release"]).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"ok": True}


@pytest.mark.slow
def test_a_run_dev_queued_behind_a_podium_run_that_skipped_a_day_starts_in_real_time(
    tmp_path: Path,
) -> None:
    """`podium dev` served the home; a `podium run` (virtual time) of a workflow ran, and
    dev started a run of the same workflow, which waited QUEUED behind it (sequential).
    The `podium run` then skipped a day's sleep, ended, and admitted dev's run: the start
    message it sent for it (to dev, its starter) was stamped with its virtual clock, a
    day ahead, so dev's run sat RUNNING with nothing running for a day of real time."""
    home = tmp_path / "home"
    marker, release = tmp_path / "started", tmp_path / "release"
    wf = tmp_path / "w.yaml"
    wf.write_text(
        "name: handoff\nsteps:\n"
        f"  - {{id: a, type: lambda, function: '{HERE}:hold_until_released',"
        f" payload: {{marker: '{marker}', release: '{release}'}}}}\n"
        f"  - {{id: nap, type: sleep, seconds: {DAY_S}, timeout: {2 * DAY_S}, depends_on: [a]}}\n"
        "  - {id: c, type: noop, depends_on: [nap]}\n"
    )
    # "podium dev": on the home, in real time, before the podium run starts.
    with LocalRuntime(store="sqlite", home=home, virtual_time=False) as dev:
        proc = start_podium(home, "run", str(wf), "--json", stdout=subprocess.PIPE)
        try:
            wait_for(marker, proc, "step a started")
            queued = dev.start_run("handoff")  # dev's API or console start
            assert queued.status is RunStatus.QUEUED
            release.write_text("go")
            out, err = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, err[-2000:]
        assert json.loads(out)["run"]["status"] == "SUCCEEDED"
        # Dev's workers: a few seconds of real time are plenty for its run's first step
        # (`a`, released already).
        pump_until(dev, lambda: bool(dev.describe(queued.run_id).steps), 15)
        ahead = messages_ahead(dev, like=f"%{queued.run_id}%")
        view = dev.describe(queued.run_id)
        steps = [(s.step, s.status.value) for s in view.steps]
        assert view.run.status is RunStatus.RUNNING and steps, (
            f"dev's run never started its first step in 15 s: {view.run.status.value},"
            f" steps {steps}; its messages, seconds ahead of wall time: {ahead}"
        )
