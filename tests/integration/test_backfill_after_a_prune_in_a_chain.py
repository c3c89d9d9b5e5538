"""What `podium runs prune` (and the TTL it stands in for) does to the chain of runs a
backfill keeps per scheduled time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.core.engine.backfill import Action, Reprocess
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.prune import prune_runs
from podium.local.runtime import LocalRuntime
from podium.service import backfill

HERE = "tests.integration.test_backfill_after_a_prune_in_a_chain"
DAY_MS = 86_400_000
FAILING: set[str] = set()


def load(event: dict[str, Any]) -> dict[str, Any]:
    if event["params"]["day"] in FAILING:
        raise ValueError(f"no data for {event['params']['day']}")
    return {"day": event["params"]["day"]}


ETL = {
    "name": "pruned_etl",
    "params": {"day": {"type": "string", "default": "${run.logical_date}"}},
    "steps": [{"id": "load", "type": "lambda", "function": f"{HERE}:load"}],
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "timezone": "UTC"}],
}


def test_a_backfill_does_not_run_again_a_time_whose_rerun_succeeded_after_the_first_run_was_pruned(
    tmp_path: Path,
) -> None:
    """A time's first backfill run failed, a `--reprocess failed` backfill reran it and
    the rerun succeeded. Weeks later `podium runs prune --older-than 30d` deleted the
    first run (it ended long ago) and kept the rerun (it ended recently). A backfill of
    the range with `--reprocess none` then planned `start` ("no run yet") for that time
    and ran it a third time, under the pruned run's id: the walk along a time's chain of
    run ids stopped at the first missing id. It now reads past up to three missing ids
    (core/engine/backfill.py ``ChainWalk``)."""
    FAILING.clear()
    where = tmp_path / "home"
    clock = ManualClock(start_ms=parse_iso("2026-04-01T00:00:00Z"))
    day = "2026-03-01"
    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        rt.push(ETL)
        FAILING.add(day)
        first = backfill.execute(rt.services, backfill.plan(rt.services, "pruned_etl", day, day))
        rt.pump()
        [first_id] = first.started
        assert rt.store.get_run(first_id).status is RunStatus.FAILED

        clock.advance(20 * DAY_MS)
        FAILING.clear()
        plan = backfill.plan(rt.services, "pruned_etl", day, day, reprocess=Reprocess.FAILED)
        [rerun_id] = backfill.execute(rt.services, plan).started
        rt.pump()
        assert rt.store.get_run(rerun_id).status is RunStatus.SUCCEEDED
        assert rt.store.get_run(rerun_id).restart_of == first_id

    clock.advance(15 * DAY_MS)  # the first run ended 35 days ago, the rerun 15
    db = Database(where / "podium.db")
    try:
        prune_runs(db, where / "payloads", clock.now_ms() - 30 * DAY_MS, now=clock.now_ms())
    finally:
        db.close()

    with LocalRuntime(store="sqlite", home=str(where), clock=clock) as rt:
        assert rt.store.get_run(rerun_id).status is RunStatus.SUCCEEDED  # still there
        plan = backfill.plan(rt.services, "pruned_etl", day, day, reprocess=Reprocess.NONE)
        [entry] = plan.entries
        assert (entry.action, entry.run_id) == (Action.SKIP, rerun_id), (
            f"the time whose rerun {rerun_id} SUCCEEDED is planned {entry.action.value!r}"
            f" ({entry.reason}) as run {entry.run_id}"
        )
