"""A rate trigger's catch-up after it was disabled and enabled again.

``enable`` makes the trigger's Scheduler schedule again, and Scheduler counts a rate
from when a schedule is made (adapters/schedules.py puts no StartDate): the firings
after the enable fall at another minute of the period than those before. A firing
stands for the slot it falls in (core/engine/backfill.py). ``missed_times`` counted the
missed times from the last firing's raw time, in the old phase, so its newest missed
time fell in the slot the current firing already stood for: ``catchup: latest``
started no missed slot at all, and ``catchup: all`` one fewer than ``max_catchup``.
The missed times are now slots (``trigger_events.missed_slots``): those after the last
firing's slot and before the current firing's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import with_time
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.inbox import handle_event
from podium.service.triggers import set_enabled


def hourly(catchup: dict[str, object]) -> dict[str, object]:
    return {
        "name": "hourly",
        "params": {"slot": {"type": "string", "default": "?"}},
        "steps": [{"id": "a", "type": "noop"}],
        "run_strategy": {"parallel": 10},
        "triggers": [{"id": "every", "rate": "1h", **catchup, "params": {"slot": "${event.time}"}}],
    }


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))  # pushed at 00:00
    with LocalRuntime(store="memory", clock=clock) as runtime:
        yield runtime


def at(rt: LocalRuntime, when: str) -> None:
    rt.clock.advance_to(parse_iso(when))  # type: ignore[union-attr]


def fire(rt: LocalRuntime, when: str) -> None:
    """Scheduler's delivery of the schedule's time ``when``."""
    at(rt, when)
    message = {"t": "fire", "wf": "hourly", "tr": "every", "at": "<aws.scheduler.scheduled-time>"}
    handle_event(rt.services, with_time(message, parse_iso(when)))


def slots(rt: LocalRuntime) -> list[str]:
    return sorted(r.params["slot"] for r in rt.store.list_runs("hourly", limit=50))


def pause_from_0110_to_0350(rt: LocalRuntime) -> None:
    """The schedule made at 00:00:30 fires at :00:30; off at 01:10, on again at 03:50:
    made again then, its times fall at :50 (04:50 here)."""
    fire(rt, "2026-01-15T01:00:30Z")  # the slot 01:00
    at(rt, "2026-01-15T01:10:00Z")
    set_enabled(rt.services, "hourly", "every", False)
    at(rt, "2026-01-15T03:50:00Z")
    set_enabled(rt.services, "hourly", "every", True)
    fire(rt, "2026-01-15T04:50:00Z")  # the slot 04:00


def test_catchup_latest_after_a_pause_starts_the_latest_missed_slot(rt: LocalRuntime) -> None:
    """A user who set ``catchup: latest`` on an hourly rate trigger, turned it off at 01:10
    and on again at 03:50, got no run for 03:00 (the newest hour it missed): only the
    04:00 hour ran. The firing at 04:50 starts the 03:00 slot too."""
    rt.push(hourly({"catchup": "latest"}))
    pause_from_0110_to_0350(rt)
    assert slots(rt) == [
        "2026-01-15T01:00:00Z",
        "2026-01-15T03:00:00Z",
        "2026-01-15T04:00:00Z",
    ], "the newest missed slot (03:00) was not caught up"


def test_catchup_all_after_a_pause_starts_max_catchup_missed_slots(rt: LocalRuntime) -> None:
    """``catchup: all`` with ``max_catchup: 2``: of the two newest missed hours (02:00 and
    03:00) only 03:00 ran, as one of the two times kept was the current firing's own
    slot. Both run now."""
    rt.push(hourly({"catchup": "all", "max_catchup": 2}))
    pause_from_0110_to_0350(rt)
    assert slots(rt) == [
        "2026-01-15T01:00:00Z",
        "2026-01-15T02:00:00Z",
        "2026-01-15T03:00:00Z",
        "2026-01-15T04:00:00Z",
    ], "max_catchup counted the current firing's slot as a missed one"
