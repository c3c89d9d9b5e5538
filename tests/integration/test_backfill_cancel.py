"""Cancelling a backfill: ``podium backfill WF --cancel [--trigger T]`` and ``POST
/workflows/{name}/backfill/cancel``.

A backfill with ``--max-active`` starts its later runs from a driver message as earlier
ones end; there was no way to stop it short of removing the trigger (stopping its runs
let the driver start the next ones). A cancel marks the trigger's state; each driver of
a backfill asked for before the mark starts no more runs. The runs already started run
on (as Airflow leaves a cancelled backfill's running runs), and a backfill asked for
after the cancel runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.backfill import BackfillRequest, backfill_request, cancel
from tests.integration.test_api import call
from tests.integration.test_cli_local import podium

WF = {
    "name": "bf_cancel",
    "steps": [{"id": "work", "type": "sleep", "seconds": 60}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}
FIVE_DAYS = {"from": "2026-03-01", "to": "2026-03-05", "max_active": 1}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(WF)
        yield runtime


def _dates(rt: LocalRuntime) -> list[str]:
    return sorted(r.logical_date or "" for r in rt.store.list_runs("bf_cancel", 100))


def test_a_cancelled_backfill_starts_no_more_runs(rt: LocalRuntime) -> None:
    first = backfill_request(rt.services, "bf_cancel", BackfillRequest.model_validate(FIVE_DAYS))
    assert len(first["started"]) == 1 and first["waiting_for_max_active"] == 4
    answer = cancel(rt.services, "bf_cancel", None, "op")
    assert (answer["workflow"], answer["trigger"]) == ("bf_cancel", "daily")
    rt.pump()  # the first run ends; the driver ticks, and stops
    assert _dates(rt) == ["2026-03-01"]
    assert rt.store.list_runs("bf_cancel", 1)[0].status.value == "SUCCEEDED"

    # Asked for after the cancel, the same backfill runs (the first time has its run).
    again = backfill_request(rt.services, "bf_cancel", BackfillRequest.model_validate(FIVE_DAYS))
    assert again["skipped"] == 1 and again["waiting_for_max_active"] == 3
    rt.pump()
    assert _dates(rt) == [f"2026-03-0{d}" for d in range(1, 6)]


def test_a_driver_from_before_cancels_existed_stops_at_any_cancel(rt: LocalRuntime) -> None:
    """A driver message sent by the release before this one has no ``bc``: it saw no
    cancel, so any cancel stops it."""
    body = messages.encode(
        messages.BackfillDriver("bf_cancel", "daily", [[0, "some-run", None, "2026-03-01"]], [], 1)
    )
    assert "bc" not in body
    decoded, _ = messages.decode(body)
    assert isinstance(decoded, messages.BackfillDriver) and decoded.cancels == 0
    seen = messages.BackfillDriver("bf_cancel", "daily", [], [], 1, cancels=5)
    assert messages.decode(messages.encode(seen))[0] == seen


def test_a_cancel_names_the_trigger_to_choose(rt: LocalRuntime) -> None:
    rt.push({**WF, "triggers": [*WF["triggers"], {"id": "hourly", "cron": "0 * * * *"}]})
    with pytest.raises(DefinitionError) as refused:
        cancel(rt.services, "bf_cancel", None, "op")
    assert "name one in trigger" in str(refused.value)
    assert cancel(rt.services, "bf_cancel", "hourly", "op")["trigger"] == "hourly"


def test_the_api_cancels_and_checks_its_body(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", WF)[0] == 201
    status, body = call("POST", "/workflows/bf_cancel/backfill/cancel", {})
    assert status == 200 and body["trigger"] == "daily", body
    status, body = call("POST", "/workflows/bf_cancel/backfill/cancel", {"trigger": "nope"})
    assert status == 400 and body["errors"][0]["path"] == "body.trigger", body
    status, body = call("POST", "/workflows/bf_cancel/backfill/cancel", {"triger": "daily"})
    assert status == 400 and body["errors"][0]["path"] == "body.triger", body
    status, body = call("POST", "/workflows/missing/backfill/cancel", {})
    assert status == 404, body


def nightly_home(tmp_path: Path) -> Path:
    """A local home that ran ``nightly`` (a noop step, a daily cron trigger) once."""
    home = tmp_path / "home"
    wf = tmp_path / "wf.yaml"
    wf.write_text(
        "name: nightly\nsteps:\n  - {id: a, type: noop}\ntriggers:\n"
        '  - {id: daily, cron: "0 6 * * *"}\n'
    )
    assert podium(home, "run", str(wf)).returncode == 0  # makes the home
    return home


def test_the_cli_cancels_in_the_home_and_checks_its_options(tmp_path: Path) -> None:
    home = nightly_home(tmp_path)
    started = podium(
        home, "backfill", "nightly", "--from", "2026-03-01", "--to", "2026-03-05",
        "--max-active", "1", "--no-wait",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    done = podium(home, "backfill", "nightly", "--cancel", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["trigger"] == "daily"
    mixed = podium(home, "backfill", "nightly", "--cancel", "--from", "2026-03-01")
    assert mixed.returncode == 2 and "--cancel takes --trigger only, not --from" in mixed.stderr
    bare = podium(home, "backfill", "nightly")
    assert bare.returncode == 2 and "--from and --to required" in bare.stderr
    wrong = podium(home, "backfill", "nightly", "--cancel", "--trigger", "nope")
    assert wrong.returncode == 1 and "--trigger: 'nightly' has no cron" in wrong.stderr


def test_a_cancel_stops_the_backfills_queued_runs_and_no_other() -> None:
    """A backfill without ``--max-active`` creates every run at once; under a run
    strategy most wait QUEUED. A cancel stops those (never started: nothing is lost),
    leaves the one running, and leaves a queued run of the schedule (a firing, not a
    backfill) and one of another trigger's backfill alone."""
    clock = ManualClock(start_ms=parse_iso("2026-04-01T12:00:00Z"))
    two = {
        **WF,
        "run_strategy": "sequential",
        "triggers": [*WF["triggers"], {"id": "hourly", "cron": "0 * * * *"}],
    }
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(two)
        days = BackfillRequest.model_validate({**FIVE_DAYS, "max_active": None, "trigger": "daily"})
        asked = backfill_request(rt.services, "bf_cancel", days)
        hour = {"from": "2026-03-10T01:00:00Z", "to": "2026-03-10T01:00:00Z", "trigger": "hourly"}
        other = backfill_request(rt.services, "bf_cancel", BackfillRequest.model_validate(hour))
        fired = rt.start_run("bf_cancel")  # queued behind them too, not a backfill's
        statuses = {r.run_id: r.status.value for r in rt.store.list_runs("bf_cancel", 100)}
        assert sorted(statuses.values()).count("QUEUED") == 6, statuses

        answer = cancel(rt.services, "bf_cancel", "daily", "op")
        assert sorted(answer["stopped_queued"]) == sorted(asked["started"][1:])
        after = {r.run_id: r.status.value for r in rt.store.list_runs("bf_cancel", 100)}
        assert after[asked["started"][0]] == "RUNNING"  # running: left alone
        assert [after[r] for r in asked["started"][1:]] == ["STOPPED"] * 4
        assert after[other["started"][0]] == "QUEUED"  # another trigger's backfill
        assert after[fired.run_id] == "QUEUED"  # the schedule's, by hand: not a backfill's
