"""Backfill on moto: one run per scheduled time of a date range with its logical date,
under the run strategy (parallel: 3 never runs more than 3), never duplicating a run on
a second call, reprocessing failed times when asked, max_active, backwards, dry run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.backfill import Reprocess
from podium.core.engine.schedule import parse_iso
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import backfill

HERE = "tests.integration.test_backfill"
FAIL_DAYS: set[str] = set()


def load(event: dict[str, Any]) -> dict[str, Any]:
    if event["params"]["day"] in FAIL_DAYS:
        raise ValueError(f"no data for {event['params']['day']}")
    return {"day": event["params"]["day"]}


ETL = {
    "name": "bf_etl",
    "run_strategy": {"parallel": 3},
    "params": {"day": {"type": "string", "default": "${run.logical_date}"}},
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 3600},
        {"id": "load", "type": "lambda", "function": f"{HERE}:load", "depends_on": ["wait"]},
    ],
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "timezone": "Europe/Berlin"}],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    FAIL_DAYS.clear()
    with LocalRuntime(clock=ManualClock(start_ms=parse_iso("2026-04-01T00:00:00Z"))) as runtime:
        runtime.push(ETL)
        yield runtime


def all_runs(rt: LocalRuntime) -> list[Any]:
    return rt.store.list_runs("bf_etl", 1000)


def max_overlap(runs: list[Any]) -> int:
    edges = []
    for r in runs:
        assert r.started_at is not None and r.ended_at is not None, r
        edges += [(r.started_at, 1), (r.ended_at, -1)]
    peak = now = 0
    for _, delta in sorted(edges, key=lambda e: (e[0], e[1])):
        now += delta
        peak = max(peak, now)
    return peak


def test_thirty_days_under_parallel_3_with_no_duplicates_on_a_second_call(rt: LocalRuntime) -> None:
    plan = backfill.plan(rt.services, "bf_etl", "2026-03-01", "2026-03-30")
    assert len(plan.entries) == 30 and {e.action.value for e in plan.entries} == {"start"}
    done = backfill.execute(rt.services, plan)
    assert len(done.started) == 30
    active = [r for r in all_runs(rt) if r.status is RunStatus.RUNNING]
    assert len(active) == 3  # the rest wait QUEUED: the run strategy holds
    rt.pump()
    runs = all_runs(rt)
    assert len(runs) == 30 and all(r.status is RunStatus.SUCCEEDED for r in runs)
    assert max_overlap(runs) == 3
    assert sorted(r.logical_date for r in runs) == [f"2026-03-{d:02d}" for d in range(1, 31)]
    assert {r.trigger for r in runs} == {"backfill"}
    assert all(r.params["day"] == r.logical_date for r in runs)

    again = backfill.execute(
        rt.services, backfill.plan(rt.services, "bf_etl", "2026-03-01", "2026-03-30")
    )
    assert again.started == [] and again.summary()["skipped"] == 30
    assert len(all_runs(rt)) == 30


def test_reprocess_failed_reruns_only_the_failed_times(rt: LocalRuntime) -> None:
    FAIL_DAYS.update({"2026-03-02", "2026-03-04"})
    backfill.execute(rt.services, backfill.plan(rt.services, "bf_etl", "2026-03-01", "2026-03-05"))
    rt.pump()
    failed = {r.logical_date for r in all_runs(rt) if r.status is RunStatus.FAILED}
    assert failed == {"2026-03-02", "2026-03-04"}
    FAIL_DAYS.clear()
    plan = backfill.plan(
        rt.services, "bf_etl", "2026-03-01", "2026-03-05", reprocess=Reprocess.FAILED
    )
    assert [e.logical_date for e in plan.entries if e.action.value == "rerun"] == [
        "2026-03-02",
        "2026-03-04",
    ]
    rerun = backfill.execute(rt.services, plan)
    rt.pump()
    reruns = [rt.store.get_run(r) for r in rerun.started]
    assert all(r.status is RunStatus.SUCCEEDED and r.restart_of for r in reruns)
    # Nothing failed is left: a third call does nothing.
    third = backfill.plan(
        rt.services, "bf_etl", "2026-03-01", "2026-03-05", reprocess=Reprocess.FAILED
    )
    assert {e.action.value for e in third.entries} == {"skip"}


def test_max_active_caps_the_backfill_itself(rt: LocalRuntime) -> None:
    rt.push({**ETL, "run_strategy": {"parallel": 10}})
    plan = backfill.plan(rt.services, "bf_etl", "2026-03-01", "2026-03-08", backwards=True)
    assert [e.logical_date for e in plan.entries][:2] == ["2026-03-08", "2026-03-07"]
    done = backfill.execute(rt.services, plan, max_active=2)
    assert len(done.started) == 2 and done.queued == 6
    rt.pump()
    runs = all_runs(rt)
    assert len(runs) == 8 and all(r.status is RunStatus.SUCCEEDED for r in runs)
    assert max_overlap(runs) == 2
    first = sorted(runs, key=lambda r: r.started_at)[:2]
    assert {r.logical_date for r in first} == {"2026-03-08", "2026-03-07"}


def test_a_backfill_never_duplicates_a_run_the_schedule_started(rt: LocalRuntime) -> None:
    from podium.service.inbox import handle_event

    handle_event(
        rt.services, {"t": "fire", "wf": "bf_etl", "tr": "daily", "at": "2026-03-03T05:00:00Z"}
    )
    plan = backfill.plan(rt.services, "bf_etl", "2026-03-03", "2026-03-03")
    assert [e.action.value for e in plan.entries] == ["skip"]


def test_dry_run_plans_only_and_bad_ranges_say_why(rt: LocalRuntime) -> None:
    plan = backfill.plan(rt.services, "bf_etl", "2026-03-01", "2026-03-03")
    assert len(plan.summary()["entries"]) == 3 and all_runs(rt) == []
    with pytest.raises(DefinitionError, match="before"):
        backfill.plan(rt.services, "bf_etl", "2026-03-05", "2026-03-01")
    with pytest.raises(DefinitionError, match="limit"):
        rt.push({**ETL, "triggers": [{"id": "daily", "cron": "* * * * *"}]})
        backfill.plan(rt.services, "bf_etl", "2026-01-01", "2026-03-01")
    rt.push({**ETL, "triggers": []})
    with pytest.raises(DefinitionError, match="add a cron or rate trigger"):
        backfill.plan(rt.services, "bf_etl", "2026-03-01", "2026-03-02")


def test_a_range_of_many_years_plans_every_time_and_calendar_ends_are_refused(
    rt: LocalRuntime,
) -> None:
    # A yearly cron over 16 years: every time (the planner stopped after five years of
    # days and dropped the rest without a word).
    rt.push({**ETL, "triggers": [{"id": "daily", "cron": "0 6 1 1 *"}]})
    plan = backfill.plan(rt.services, "bf_etl", "2010-01-01", "2025-12-31")
    days = [e["logical_date"] for e in plan.summary()["entries"]]
    assert days == [f"{year}-01-01" for year in range(2010, 2026)]
    # Dates at the calendar's ends were a 500 (OverflowError, year 0): now the place.
    for start, end in [("2026-01-01", "9999-12-31"), ("0001-01-01", "0001-01-05")]:
        with pytest.raises(DefinitionError, match="out of range: backfill dates from 1970"):
            backfill.plan(rt.services, "bf_etl", start, end)
    with pytest.raises(DefinitionError, match="out of range"):
        backfill.plan(rt.services, "bf_etl", "2026-01-01", "9999-12-31T00:00:00Z")
    # A minutely cron over 26 years stops counting at the limit (it built 13 M times).
    rt.push({**ETL, "triggers": [{"id": "daily", "cron": "* * * * *"}]})
    with pytest.raises(DefinitionError, match="more than 1,000 scheduled times"):
        backfill.plan(rt.services, "bf_etl", "2000-01-01", "2026-01-01")


def test_the_api_routes(rt: LocalRuntime) -> None:
    from tests.integration.test_api import call

    status, body = call("GET", "/workflows/bf_etl/triggers")
    assert status == 200 and body["triggers"][0]["id"] == "daily"
    assert body["triggers"][0]["rule"] == "0 6 * * * (Europe/Berlin)"
    status, body = call("POST", "/workflows/bf_etl/triggers/daily/disable")
    assert (status, body["enabled"]) == (200, False)
    status, body = call("POST", "/workflows/bf_etl/triggers/nope/enable")
    assert status == 404 and "its triggers: daily" in body["message"]  # an unknown trigger
    status, body = call(
        "POST",
        "/workflows/bf_etl/backfill",
        {"from": "2026-03-01", "to": "2026-03-03", "dry_run": True},
    )
    assert status == 200 and body["to_start"] == 3 and body["started"] == []
    status, body = call(
        "POST", "/workflows/bf_etl/backfill", {"from": "2026-03-01", "to": "2026-03-03"}
    )
    assert status == 202 and len(body["started"]) == 3
    status, body = call("POST", "/workflows/bf_etl/backfill", {"from": "2026-03-01"})
    assert status == 400 and body["errors"][0]["path"] == "body.to"
    status, body = call("POST", "/workflows/bf_etl/backfill", {"from": "x", "to": "2026-03-03"})
    assert status == 400 and "not a date" in body["errors"][0]["message"]
