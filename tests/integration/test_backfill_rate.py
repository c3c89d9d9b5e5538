"""Backfill of a rate trigger leaves alone the times its schedule already ran.

A backfill computed a rate trigger's times from the trigger's ``since`` (to the ms),
while its schedule fired at other times: locally the fire message carries seconds only,
and EventBridge Scheduler counts a rate from when the schedule was (re)made. So no id
matched and a backfill ran every time a second time. Now a firing is the run of the
rate period (slot) it falls in, the id a backfill gives that slot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import MemorySchedules
from podium.core.engine.external import run_created_ms
from podium.core.engine.schedule import iso, parse_iso
from podium.local.runtime import LocalRuntime
from podium.service import backfill
from podium.service.inbox import handle_event

HOURLY = {
    "name": "rate_wf",
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 100},
    "triggers": [{"id": "hourly", "rate": "1h"}],
}
PUSHED = parse_iso("2026-03-01T00:00:00Z") + 123  # the trigger's since, mid-second
HOUR = 3_600_000


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=PUSHED)
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        runtime.services.schedules = MemorySchedules()
        runtime.push(HOURLY)
        yield runtime


def fire(rt: LocalRuntime, at: int) -> None:
    """The fire message of a schedule: the time in seconds, as Scheduler writes it."""
    handle_event(rt.services, {"t": "fire", "wf": "rate_wf", "tr": "hourly", "at": iso(at)})


def all_runs(rt: LocalRuntime) -> list[Any]:
    return rt.store.list_runs("rate_wf", 1000)


def backfill_the_morning(rt: LocalRuntime) -> backfill.Backfill:
    plan = backfill.plan(rt.services, "rate_wf", "2026-03-01T00:00:00Z", "2026-03-01T06:30:00Z")
    return backfill.execute(rt.services, plan)


def test_a_backfill_leaves_alone_the_times_the_local_schedule_fired(rt: LocalRuntime) -> None:
    schedules = rt.services.schedules
    assert isinstance(schedules, MemorySchedules)
    rt.clock.advance_to(parse_iso("2026-03-01T06:30:00Z"))
    for body in schedules.due(rt.clock.now_ms(), since_ms=PUSHED):
        handle_event(rt.services, body)
    fired = {r.run_id for r in all_runs(rt)}
    assert len(fired) == 6  # 01:00 to 06:00

    done = backfill_the_morning(rt)
    entries = done.summary()["entries"]
    assert [e["time"][11:16] for e in entries] == [f"0{h}:00" for h in range(7)]
    assert [e["action"] for e in entries] == ["start"] + ["skip"] * 6
    assert {e["run_id"] for e in entries[1:]} == fired  # each found the schedule's run
    assert len(all_runs(rt)) == 7
    assert backfill_the_morning(rt).started == []  # and a second call adds nothing


def test_a_backfill_leaves_alone_the_times_a_deployed_schedule_fired(rt: LocalRuntime) -> None:
    """Scheduler's rate counts from when the schedule was made (here re-made by an
    enable at 00:20:31): its times fall inside the trigger's hourly slots, not on them."""
    made = parse_iso("2026-03-01T00:20:31Z")
    rt.clock.advance_to(parse_iso("2026-03-01T06:30:00Z"))
    for k in range(1, 7):
        fire(rt, made + k * HOUR)
    fire(rt, made + 6 * HOUR)  # a redelivered fire finds its run
    schedule_runs = all_runs(rt)
    assert len(schedule_runs) == 6
    # A run id's time is never after its run was made (a Glue attempt's search stops at
    # job runs older than it): a firing's slot starts at or before the firing.
    assert all(run_created_ms(r.run_id) <= r.created_at for r in schedule_runs)

    done = backfill_the_morning(rt)
    assert [e.action.value for e in done.entries] == ["start"] + ["skip"] * 6
    assert len(done.started) == 1 and len(all_runs(rt)) == 7
    assert sorted(r.trigger for r in all_runs(rt)) == ["backfill"] + ["rate:hourly"] * 6


def test_the_schedule_fires_no_second_run_for_a_time_a_backfill_ran(rt: LocalRuntime) -> None:
    rt.clock.advance_to(parse_iso("2026-03-01T02:30:00Z"))
    done = backfill.execute(
        rt.services,
        backfill.plan(rt.services, "rate_wf", "2026-03-01T00:00:00Z", "2026-03-01T02:30:00Z"),
    )
    assert len(done.started) == 3  # 00:00, 01:00, 02:00
    fire(rt, parse_iso("2026-03-01T02:00:00Z"))  # the local schedule's time
    fire(rt, parse_iso("2026-03-01T02:20:31Z"))  # a re-made schedule's time, same hour
    assert len(all_runs(rt)) == 3
    fire(rt, parse_iso("2026-03-01T03:00:00Z"))  # the next hour is a new run
    assert len(all_runs(rt)) == 4
