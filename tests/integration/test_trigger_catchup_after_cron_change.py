"""Catch-up counts no time before the trigger's current schedule began. Before, it
counted the missed times of the *current* cron from the last time fired, so changing a
trigger's cron in place (same id, catchup on) made the first firing of the new version
"catch up" a time the old schedule never had: a second run for a logical date that
already ran, although no firing was missed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import with_time
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.inbox import handle_event
from podium.service.triggers import schedule_name


def _wf(cron: str, *, name: str = "nightly_etl", catchup: str = "latest") -> dict[str, object]:
    return {
        "name": name,
        "params": {"day": {"type": "string", "default": "none"}},
        "steps": [{"id": "a", "type": "noop"}],
        "run_strategy": {"parallel": 5},
        "triggers": [
            {
                "id": "nightly",
                "cron": cron,
                "catchup": catchup,
                "params": {"day": "${event.logical_date}"},
            }
        ],
    }


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-05-01T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        yield runtime


def _fire(rt: LocalRuntime, at: str) -> None:
    """The firing as the trigger's schedule sends it (its message, the time put in)."""
    rt.clock.advance_to(parse_iso(at))
    assert rt.services.schedules is not None
    spec = rt.services.schedules.get(schedule_name("nightly_etl", "nightly"))
    assert spec is not None
    handle_event(rt.services, with_time(spec.message, parse_iso(at)))


def test_moving_the_cron_hour_does_not_catch_up_a_time_that_was_never_scheduled(
    rt: LocalRuntime,
) -> None:
    rt.push(_wf("0 6 * * *"))
    _fire(rt, "2026-05-01T06:00:00Z")  # ran for 2026-05-01
    # Same trigger id, one hour later, pushed at noon: the new schedule's first time is
    # 2026-05-02 07:00 (its 2026-05-01 07:00 was before the push, never scheduled).
    rt.clock.advance_to(parse_iso("2026-05-01T12:00:00Z"))
    rt.push(_wf("0 7 * * *"))
    _fire(rt, "2026-05-02T07:00:00Z")  # the new schedule's first time: nothing was missed
    dates = sorted(r.logical_date for r in rt.store.list_runs("nightly_etl", 100))
    assert dates == ["2026-05-01", "2026-05-02"]


def test_a_firing_missed_under_an_unchanged_schedule_is_still_caught_up(rt: LocalRuntime) -> None:
    rt.push(_wf("0 6 * * *"))
    _fire(rt, "2026-05-01T06:00:00Z")
    rt.clock.advance_to(parse_iso("2026-05-01T12:00:00Z"))
    changed = _wf("0 6 * * *")
    changed["steps"] = [{"id": "b", "type": "noop"}]  # a new version, the same schedule
    rt.push(changed)
    _fire(rt, "2026-05-03T06:00:00Z")  # 2026-05-02 06:00 was missed: caught up
    dates = sorted(r.logical_date for r in rt.store.list_runs("nightly_etl", 100))
    assert dates == ["2026-05-01", "2026-05-02", "2026-05-03"]
