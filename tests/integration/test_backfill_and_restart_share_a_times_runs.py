"""A backfill's rerun of a time and an operator's ``podium runs restart`` of that time's
run are both restarts of it (``restart_of``; docs/workflow-language.md, Backfill: "as a
restart --from beginning of the latest run"), but each found only its own: the backfill
walked its chain of derived ids (core/engine/backfill.py ``ChainWalk``), a restart
looked for ``RUN-r1`` (service/restart.py ``restarted_as``). So a time whose failed run
an operator restarted (and that succeeded) was run a third time by ``--reprocess
failed``, and a run a backfill had already run again could be restarted a second time,
both running the same scheduled time twice. Each reads the other's ids now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.backfill import Reprocess
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import backfill, console_views
from podium.service.actions import Actor, RestartRequest, run_action

HERE = "tests.integration.test_backfill_and_restart_share_a_times_runs"
FAIL_DAYS: set[str] = set()


def load(event: dict[str, Any]) -> dict[str, Any]:
    if event["params"]["day"] in FAIL_DAYS:
        raise ValueError(f"no data for {event['params']['day']}")
    return {"day": event["params"]["day"]}


DAILY: dict[str, Any] = {
    "name": "daily_load",
    "params": {"day": {"type": "string", "default": "${run.logical_date}"}},
    "steps": [{"id": "load", "type": "lambda", "function": f"{HERE}:load"}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "timezone": "UTC"}],
}
ME = Actor("alice", "data fixed")


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    FAIL_DAYS.clear()
    clock = ManualClock(start_ms=parse_iso("2026-04-01T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(DAILY)
        yield runtime


def failed_day(rt: LocalRuntime) -> str:
    """A backfill of 2026-03-02 whose run failed: that run's id."""
    FAIL_DAYS.add("2026-03-02")
    done = backfill.execute(
        rt.services, backfill.plan(rt.services, "daily_load", "2026-03-02", "2026-03-02")
    )
    rt.pump()
    (run_id,) = done.started
    assert rt.store.get_run(run_id).status is RunStatus.FAILED
    FAIL_DAYS.clear()
    return run_id


def test_reprocess_failed_leaves_a_time_whose_restart_succeeded(rt: LocalRuntime) -> None:
    """The operator restarted the failed run of 2026-03-02 (``podium runs restart``) and
    it succeeded; a later ``podium backfill --reprocess failed`` of the range still
    found the FAILED run as the time's latest and ran the day a third time. The restart
    is the time's latest run: the day is skipped as succeeded."""
    old = failed_day(rt)
    restarted = run_action(rt.services, old, RunAction.RESTART, ME, RestartRequest("beginning"))
    rt.pump()
    assert restarted.new_run is not None
    assert rt.store.get_run(restarted.new_run).status is RunStatus.SUCCEEDED

    plan = backfill.plan(
        rt.services, "daily_load", "2026-03-02", "2026-03-02", reprocess=Reprocess.FAILED
    )
    assert [(e.action.value, e.reason) for e in plan.entries] == [
        ("skip", "a run exists (succeeded)")
    ]


def test_a_run_a_backfill_ran_again_is_not_restarted_a_second_time(rt: LocalRuntime) -> None:
    """``--reprocess failed`` ran the failed day again (a new run whose ``restart_of`` is
    the failed one); ``podium runs restart`` of the failed run was then accepted and
    started a second run of the same day beside it, though "a run is restarted once: a
    second restart is refused naming the first one" (docs/operations.md). It is refused,
    naming the backfill's rerun, and the console's page of the failed run links the
    rerun as its restart and offers no Restart."""
    old = failed_day(rt)
    again = backfill.execute(
        rt.services,
        backfill.plan(
            rt.services, "daily_load", "2026-03-02", "2026-03-02", reprocess=Reprocess.FAILED
        ),
    )
    (rerun,) = again.started
    assert rt.store.get_run(rerun).restart_of == old

    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, old, RunAction.RESTART, ME, RestartRequest("beginning"))
    assert rerun in str(refused.value)
    rt.pump()
    page = console_views.run_page(rt.services, old)
    assert page["related"]["restarted_as"] == {"run_id": rerun, "status": "SUCCEEDED"}
    assert page["actions"] == []


def test_a_rerun_of_a_time_whose_restart_failed_follows_the_restart(rt: LocalRuntime) -> None:
    """The operator's restart of the failed run failed too; ``--reprocess failed`` ran
    the day again as a restart of the first failed run (the latest its chain had), a
    second restart of that run beside the operator's. It reruns the day as a restart of
    the operator's restart, the time's latest run, and a second backfill finds that
    rerun (nothing more to start)."""
    old = failed_day(rt)
    FAIL_DAYS.add("2026-03-02")
    restarted = run_action(rt.services, old, RunAction.RESTART, ME, RestartRequest("beginning"))
    rt.pump()
    assert restarted.new_run is not None
    assert rt.store.get_run(restarted.new_run).status is RunStatus.FAILED
    FAIL_DAYS.clear()

    def reprocess() -> backfill.Backfill:
        return backfill.plan(
            rt.services, "daily_load", "2026-03-02", "2026-03-02", reprocess=Reprocess.FAILED
        )

    (entry,) = reprocess().entries
    assert (entry.action.value, entry.restart_of) == ("rerun", restarted.new_run)
    done = backfill.execute(rt.services, reprocess())
    rt.pump()
    (rerun,) = done.started
    assert rt.store.get_run(rerun).status is RunStatus.SUCCEEDED
    assert [(e.action.value, e.run_id) for e in reprocess().entries] == [("skip", rerun)]
