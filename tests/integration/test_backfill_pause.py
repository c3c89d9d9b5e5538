"""Pausing and resuming a backfill: ``podium backfill WF --pause|--resume [--trigger T]``
and ``POST /workflows/{name}/backfill/pause|resume``.

A backfill of a month with ``--max-active`` could only be cancelled (Airflow 3's
backfills pause and unpause too): an operator who must free the warehouse for an hour
had to cancel and ask for the rest again. A pause marks the trigger's state; each driver
tick reads it and starts nothing while it is there, and starts the next runs at its first
tick after the resume. The runs already running go on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.local.runtime import LocalRuntime
from podium.service.backfill import (
    DRIVER_INTERVAL_MS,
    BackfillRequest,
    backfill_request,
    cancel,
    pause,
)
from tests.integration import test_backfill_cancel as cancel_tests
from tests.integration.test_api import call
from tests.integration.test_backfill_cancel import FIVE_DAYS, WF, _dates, nightly_home
from tests.integration.test_cli_local import podium

rt = cancel_tests.rt  # the fixture: a memory runtime with WF pushed, on 2026-04-01


def _a_while(rt: LocalRuntime, minutes: int = 10) -> None:
    """Let ``minutes`` pass, delivering what comes due (a paused driver ticks on for
    ever: ``pump`` moving virtual time to the next timer would never stop)."""
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    for _ in range(minutes * 60_000 // DRIVER_INTERVAL_MS):
        clock.advance(DRIVER_INTERVAL_MS)
        rt.pump(wait=False)


def _ask(rt: LocalRuntime, **body: object) -> dict[str, object]:
    return backfill_request(
        rt.services, "bf_cancel", BackfillRequest.model_validate({**FIVE_DAYS, **body})
    )


def test_a_paused_backfill_starts_nothing_until_resumed(rt: LocalRuntime) -> None:
    first = _ask(rt)
    assert len(first["started"]) == 1 and first["waiting_for_max_active"] == 4  # type: ignore[arg-type]
    answer = pause(rt.services, "bf_cancel", None, True)
    assert answer["paused"] is True and answer["trigger"] == "daily" and "paused_at" in answer
    _a_while(rt)  # the first run ends; the driver ticks on, starting nothing
    assert _dates(rt) == ["2026-03-01"]
    assert rt.store.list_runs("bf_cancel", 1)[0].status.value == "SUCCEEDED"
    resumed = pause(rt.services, "bf_cancel", None, False)
    assert resumed["paused"] is False and "resumed_at" in resumed
    rt.pump()
    assert _dates(rt) == [f"2026-03-0{d}" for d in range(1, 6)]


def test_a_backfill_asked_for_during_a_pause_waits_behind_it(rt: LocalRuntime) -> None:
    pause(rt.services, "bf_cancel", None, True)
    waiting = _ask(rt)
    assert waiting["started"] == [] and waiting["waiting_for_max_active"] == 5
    assert waiting["paused"] is True
    _a_while(rt)
    assert _dates(rt) == []
    # Without max_active it would start every run at once: refused, naming the fix.
    with pytest.raises(DefinitionError) as refused:
        _ask(rt, max_active=None)
    assert refused.value.issues[0].path == "max_active"
    assert "--resume" in refused.value.issues[0].message
    assert _ask(rt, max_active=None, dry_run=True)["paused"] is True  # a plan is fine
    pause(rt.services, "bf_cancel", None, False)
    rt.pump()
    assert len(_dates(rt)) == 5


def test_a_cancel_ends_the_pause(rt: LocalRuntime) -> None:
    _ask(rt)
    pause(rt.services, "bf_cancel", None, True)
    cancel(rt.services, "bf_cancel", None, "op")
    rt.pump()
    assert _dates(rt) == ["2026-03-01"]  # the paused driver saw the cancel: stopped
    again = _ask(rt)  # asked for after the cancel: runs, not paused
    assert again["paused"] is False and len(again["started"]) == 1  # type: ignore[arg-type]
    rt.pump()
    assert len(_dates(rt)) == 5


def test_the_api_pauses_and_resumes_and_checks_its_body(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", WF)[0] == 201
    status, body = call("POST", "/workflows/bf_cancel/backfill/pause", {})
    assert status == 200 and body["paused"] is True and body["trigger"] == "daily", body
    status, body = call(
        "POST", "/workflows/bf_cancel/backfill", {"from": "2025-12-01", "to": "2025-12-02"}
    )
    assert status == 400 and body["errors"][0]["path"] == "body.max_active", body
    status, body = call("GET", "/workflows/bf_cancel/triggers")
    assert status == 200 and body["triggers"][0]["backfills_paused"] is True, body
    status, body = call("POST", "/workflows/bf_cancel/backfill/resume", {"trigger": "daily"})
    assert status == 200 and body["paused"] is False, body
    status, body = call("GET", "/workflows/bf_cancel/triggers")
    assert body["triggers"][0]["backfills_paused"] is False, body
    status, body = call("POST", "/workflows/bf_cancel/backfill/pause", {"trigger": "nope"})
    assert status == 400 and body["errors"][0]["path"] == "body.trigger", body
    status, body = call("POST", "/workflows/bf_cancel/backfill/resume", {"paused": True})
    assert status == 400 and body["errors"][0]["path"] == "body.paused", body
    status, body = call("POST", "/workflows/missing/backfill/pause", {})
    assert status == 404, body


def test_the_cli_pauses_and_resumes_in_the_home(tmp_path: Path) -> None:
    home = nightly_home(tmp_path)
    paused = podium(home, "backfill", "nightly", "--pause")
    assert paused.returncode == 0, paused.stderr
    assert "paused at" in paused.stdout and "--resume" in paused.stdout
    held = podium(
        home, "backfill", "nightly", "--from", "2026-03-01", "--to", "2026-03-03",
        "--max-active", "2",
    )  # fmt: skip
    assert held.returncode == 0, held.stderr
    assert "3 wait for the resume (podium backfill nightly --resume)" in held.stdout
    refused = podium(home, "backfill", "nightly", "--from", "2026-03-01", "--to", "2026-03-03")
    assert refused.returncode == 1 and "--max-active: the backfills of 'daily' are paused" in (
        refused.stderr
    )
    listed = podium(home, "triggers", "list", "nightly")
    assert listed.returncode == 0 and "backfills paused" in listed.stdout, listed.stdout
    resumed = podium(home, "backfill", "nightly", "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["paused"] is False
    both = podium(home, "backfill", "nightly", "--pause", "--cancel")
    assert both.returncode == 2 and "use one of --cancel and --pause" in both.stderr
    mixed = podium(home, "backfill", "nightly", "--resume", "--max-active", "2")
    assert mixed.returncode == 2 and "--resume takes --trigger only, not --max-active" in (
        mixed.stderr
    )
