"""A ``bus: podium`` trigger on a run's PAUSED status change, when the run is paused a
second time (paused, resumed, paused again).

Each pause publishes its own "Podium Run Status Change" (docs/events.md: "published
when a run ... is paused (PAUSED) or resumed (RUNNING again)"). service/triggers.py
named a Podium status change by what it said (``_event_key``: detail-type, run id,
step, attempt, status) and timed it by the detail's first time field
(``_event_time``: started_at for a run that had not ended), so that a change published
again by ``run_ended`` starts no second run. A second pause said exactly what the
first said: it got the first pause's run id, and the trigger started nothing for it.
A run's status change now carries when it happened (``detail.at``: the pause's time),
and is named by it too.
"""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

ETL = {"name": "etl", "steps": [{"id": "load", "type": "wait_for_callback", "timeout": 86400}]}
WATCH = {
    "name": "watch",
    "params": {"paused": {"type": "string", "default": "?"}},
    "steps": [{"id": "note", "type": "noop"}],
    "triggers": [
        {
            "id": "on_pause",
            "event": {
                "bus": "podium",
                "pattern": {
                    "source": ["podium"],
                    "detail-type": ["Podium Run Status Change"],
                    "detail": {"workflow": ["etl"], "status": ["PAUSED"]},
                },
            },
            "params": {"paused": "${event.detail.run_id}"},
        }
    ],
}


def test_a_run_paused_twice_starts_the_pause_trigger_twice() -> None:
    """An operator paused a run, resumed it, and paused it again ten minutes later: the
    watching workflow (``status: [PAUSED]`` on ``bus: podium``) ran for the first pause
    only. The second pause, a new status change, starts a second run."""
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(WATCH)
        rt.push(ETL)
        run_id = rt.start_run("etl").run_id
        rt.pump(wait=False)  # its step waits for a callback
        for action in (RunAction.PAUSE, RunAction.RESUME, RunAction.PAUSE):
            clock.advance(600_000)
            run_action(rt.services, run_id, action, Actor("operator"))
            rt.pump(wait=False)

        published = [
            e["detail"]["status"]
            for e in rt.services.events.published  # type: ignore[union-attr]
            if e.get("detail-type") == "Podium Run Status Change"
            and e["detail"]["workflow"] == "etl"
        ]
        assert published.count("PAUSED") == 2  # two pauses, each published
        watched = rt.store.list_runs("watch", 10)
        assert len(watched) == 2, (
            f"the run's second pause started no run of the PAUSED trigger (runs: {len(watched)})"
        )
        pauses = [
            e["detail"]["at"]
            for e in rt.services.events.published  # type: ignore[union-attr]
            if e.get("detail-type") == "Podium Run Status Change"
            and e["detail"]["status"] == "PAUSED"
        ]
        assert pauses == [clock.now_ms() - 1_200_000, clock.now_ms()]  # each pause's time
