"""A ``bus: podium`` trigger on a run's RUNNING, when the run is resumed.

A resume publishes "Podium Run Status Change" with RUNNING; the start said RUNNING
too, and both were named by run id and status and timed by ``started_at``: the resume
got the start's run id, and a trigger on RUNNING started nothing for it (nor for a
second resume). A resume's change now carries its own time (``detail.at``)."""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

ETL = {"name": "etl", "steps": [{"id": "load", "type": "wait_for_callback", "timeout": 86400}]}
WATCH = {
    "name": "watch",
    "steps": [{"id": "note", "type": "noop"}],
    "triggers": [
        {
            "id": "on_running",
            "event": {
                "bus": "podium",
                "pattern": {
                    "source": ["podium"],
                    "detail-type": ["Podium Run Status Change"],
                    "detail": {"workflow": ["etl"], "status": ["RUNNING"]},
                },
            },
        }
    ],
}


def test_each_resume_starts_the_running_trigger_once() -> None:
    """Start, pause, resume, pause, resume: three RUNNING changes, three runs."""
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(WATCH)
        rt.push(ETL)
        run_id = rt.start_run("etl").run_id
        rt.pump(wait=False)
        for action in (RunAction.PAUSE, RunAction.RESUME, RunAction.PAUSE, RunAction.RESUME):
            clock.advance(600_000)
            run_action(rt.services, run_id, action, Actor("operator"))
            rt.pump(wait=False)
        assert len(rt.store.list_runs("watch", 10)) == 3
