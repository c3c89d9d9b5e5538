"""Triggers: catch-up across a disable and enable and across a `podium dev` restart (the
floor is kept on the trigger's state), a backfill's rerun of a run with loops (in full),
and event times outside the years 1-9999. Found by a review; each test failed before its
fix (its docstring says what was wrong and what is right), except the one control named
as such."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import with_time
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.backfill import Reprocess
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import backfill
from podium.service.inbox import handle_event
from podium.service.triggers import schedule_name, set_enabled, start_from_event

HERE = "tests.integration.test_trigger_catchup_and_backfill"
CALLS: list[tuple[str | None, Any]] = []


def work(event: dict[str, Any]) -> dict[str, Any]:
    """A lambda step played locally: records each call (the run's day, the iteration)."""
    iteration = event.get("iteration") or {}
    CALLS.append(((event.get("params") or {}).get("day"), iteration.get("i")))
    return {"ok": 1}


NIGHTLY = {
    "name": "review_nightly",
    "params": {"day": {"type": "string", "default": "none"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 5},
    "triggers": [
        {
            "id": "nightly",
            "cron": "0 6 * * *",
            "catchup": "all",
            "params": {"day": "${event.logical_date}"},
        }
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    clock = ManualClock(start_ms=parse_iso("2026-05-01T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        yield runtime


def _fire_as_scheduled(rt: LocalRuntime, workflow: str, trigger: str, at: str) -> None:
    """The firing exactly as the trigger's current schedule sends it (its own message,
    with its ``sf``, and the scheduled time put in)."""
    rt.clock.advance_to(parse_iso(at))
    assert rt.services.schedules is not None
    spec = rt.services.schedules.get(schedule_name(workflow, trigger))
    assert spec is not None, "the trigger has no schedule"
    handle_event(rt.services, with_time(spec.message, parse_iso(at)))


def test_catchup_runs_the_times_missed_while_the_trigger_was_disabled(rt: LocalRuntime) -> None:
    """docs/workflow-language.md (Triggers): with ``catchup``, "a firing also starts the
    scheduled times missed since the last one that fired (after a pause, say), none from
    before the trigger's current cron, rate or time zone took effect". Disabling and
    enabling a trigger changes none of those, and its catch-up watermark is kept across
    the switch. But ``disable`` deletes the schedule, and ``enable`` re-creates it with
    ``sf`` (catch-up's floor) set to the moment of the enable
    (service/triggers.py ``_since_kept``: no old schedule -> since = now), so the first
    firing after a pause drops every time missed during the pause. Here 05-02..05-04
    were missed while the trigger was off; the 05-05 firing must catch them up."""
    rt.push(NIGHTLY)
    _fire_as_scheduled(rt, "review_nightly", "nightly", "2026-05-01T06:00:00Z")
    rt.clock.advance_to(parse_iso("2026-05-01T12:00:00Z"))
    set_enabled(rt.services, "review_nightly", "nightly", False)
    rt.clock.advance_to(parse_iso("2026-05-04T12:00:00Z"))
    set_enabled(rt.services, "review_nightly", "nightly", True)
    _fire_as_scheduled(rt, "review_nightly", "nightly", "2026-05-05T06:00:00Z")
    dates = sorted(r.logical_date for r in rt.store.list_runs("review_nightly", 100))
    assert dates == ["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05"]


def test_a_trigger_removed_and_added_back_catches_up_nothing_from_before(
    rt: LocalRuntime,
) -> None:
    """A control for the rule the floor's keeping must not break: a trigger removed from
    the workflow and added back later starts afresh (its state's rule is cleared when
    it is removed), so its first firing catches up no time from before it came back."""
    rt.push(NIGHTLY)
    _fire_as_scheduled(rt, "review_nightly", "nightly", "2026-05-01T06:00:00Z")
    rt.clock.advance_to(parse_iso("2026-05-01T12:00:00Z"))
    rt.push({**NIGHTLY, "triggers": []})
    rt.clock.advance_to(parse_iso("2026-05-04T12:00:00Z"))
    rt.push(NIGHTLY)
    _fire_as_scheduled(rt, "review_nightly", "nightly", "2026-05-05T06:00:00Z")
    dates = sorted(r.logical_date for r in rt.store.list_runs("review_nightly", 100))
    assert dates == ["2026-05-01", "2026-05-05"]


LOOPED = {
    "name": "review_bf_loop",
    "params": {"day": {"type": "string", "default": "${run.logical_date}"}},
    "steps": [
        {
            "id": "top",
            "type": "lambda",
            "function": f"{HERE}:work",
            "payload": {"params": {"day": "${params.day}"}},
        },
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [1, 2, 3]},
            "depends_on": ["top"],
            "steps": [
                {
                    "id": "w",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {
                        "params": {"day": "${params.day}"},
                        "iteration": {"i": "${iteration.i}"},
                    },
                }
            ],
        },
    ],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}


def test_backfill_reprocess_all_runs_the_loop_iterations_again(rt: LocalRuntime) -> None:
    """docs/workflow-language.md (Backfill): ``--reprocess all`` runs again "every time
    whose latest run has ended". The rerun is started with ``restart_of`` = the previous
    run (service/backfill.py ``_entry``/``_start``), and a run with ``restart_of`` and no
    ``restart_from`` is treated as a restart from incomplete by the loop machinery
    (service/reuse.py ``restarted_child``): every foreach iteration that succeeded in the
    earlier run is taken over, not run. So the reprocessed day reruns its top-level step
    but none of its loop body: half a reprocess, with the old loop outputs. A reprocess
    must run the whole run again, iterations included."""
    rt.push(LOOPED)
    first = backfill.plan(rt.services, "review_bf_loop", "2026-03-01", "2026-03-01")
    backfill.execute(rt.services, first)
    rt.pump()
    runs = rt.store.list_runs("review_bf_loop", 10)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED]
    assert sorted(CALLS, key=str) == sorted(
        [("2026-03-01", None), ("2026-03-01", 1), ("2026-03-01", 2), ("2026-03-01", 3)], key=str
    )
    CALLS.clear()

    again = backfill.plan(
        rt.services, "review_bf_loop", "2026-03-01", "2026-03-01", reprocess=Reprocess.ALL
    )
    assert [e.action.value for e in again.entries] == ["rerun"]
    backfill.execute(rt.services, again)
    rt.pump()
    runs = rt.store.list_runs("review_bf_loop", 10)
    assert len(runs) == 2 and all(r.status is RunStatus.SUCCEEDED for r in runs)
    # the top step and each of the three iterations ran again
    assert sorted(CALLS, key=str) == sorted(
        [("2026-03-01", None), ("2026-03-01", 1), ("2026-03-01", 2), ("2026-03-01", 3)], key=str
    )


@pytest.mark.parametrize("time", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_cron_event_time_out_of_range_is_a_clear_error_naming_event_time(
    rt: LocalRuntime, time: str
) -> None:
    """``podium run FILE --event EVENT.json`` / ``podium.testing.fire_trigger`` with
    ``{"time": ...}`` for a cron trigger: an ISO time Python parses but whose UTC instant
    falls outside years 1-9999 escapes as a bare ``ValueError('year 10000 is out of
    range')`` from deep in service/triggers.py ``on_fire_once`` (``logical_date``/``iso``
    of the time; ``parse_iso`` accepted it), a traceback from the CLI. It must be
    refused like any other bad time: a DefinitionError at ``event.time``."""
    rt.push(NIGHTLY)
    with pytest.raises(DefinitionError) as info:
        start_from_event(rt.services, "review_nightly", {"time": time})
    assert "event.time" in str(info.value)


def test_podium_run_event_with_an_out_of_range_time_exits_with_a_message(tmp_path: Path) -> None:
    """The same through the CLI: ``podium run FILE --event EVENT.json`` with ``{"time":
    "9999-12-31T23:59:59-01:00"}`` ends with an uncaught ValueError (a traceback) instead
    of exit 1 and a line naming ``event.time``."""
    from typer.testing import CliRunner

    from podium.cli.main import app

    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(NIGHTLY))
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps({"time": "9999-12-31T23:59:59-01:00"}))
    home = str(tmp_path / "home")
    result = CliRunner().invoke(app, ["run", str(wf), "--home", home, "--event", str(ev)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "event.time" in result.output


def test_catchup_after_a_podium_dev_restart_runs_the_times_missed_while_it_was_down(
    tmp_path: Path,
) -> None:
    """functions/podium/local/schedule_ticker.py promises: "a stopped dev server does not
    catch up; ``catchup`` in the trigger does, when the next time fires". The schedules of
    ``podium dev`` live in memory, so a new dev process re-creates every schedule
    (``ScheduleTicker.prime`` -> ``sync_triggers``) and ``_since_kept`` (service/triggers.py)
    sees no old schedule and stamps ``sf`` = the restart time: catch-up's floor moves
    past every time missed while the server was down, and they are never run. Here the
    server ran 05-01, was down 05-02 and 05-03, and the 05-04 firing (catchup: all) must
    also start 05-02 and 05-03."""
    from podium.local.schedule_ticker import ScheduleTicker

    home = tmp_path / "home"
    clock = ManualClock(start_ms=parse_iso("2026-05-01T00:00:00Z"))
    with LocalRuntime(store="sqlite", home=home, clock=clock) as first:
        first.push(NIGHTLY)
        ticker = ScheduleTicker(first)
        ticker.prime()
        ticker.tick()  # the first look: from now on
        clock.advance_to(parse_iso("2026-05-01T06:00:05Z"))
        assert ticker.tick() == 1
        first.pump(advance_time=False)
    clock.advance_to(parse_iso("2026-05-03T12:00:00Z"))  # podium dev started again
    with LocalRuntime(store="sqlite", home=home, clock=clock) as second:
        ticker = ScheduleTicker(second)
        ticker.prime()
        ticker.tick()
        clock.advance_to(parse_iso("2026-05-04T06:00:05Z"))
        assert ticker.tick() == 1
        second.pump(advance_time=False)
        dates = sorted(r.logical_date for r in second.store.list_runs("review_nightly", 100))
    assert dates == ["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04"]
