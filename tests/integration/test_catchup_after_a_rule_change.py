"""A firing of a trigger's *previous* schedule, handled after a push changed the
trigger's cron, caught up times of the *new* cron from before the push: times no
schedule ever had, and so second runs of logical dates that ran. Now the floor of
catch-up is the later of the message's ``since`` and the trigger state's ``rule_since``.

docs/workflow-language.md (Triggers): catch-up starts "none from before the trigger's
current cron, rate or time zone took effect". service/triggers.py ``on_fire`` computes
the missed times with the active version's cron (``missed_times``) and floored them with
the ``since`` the *message* carries (``sf``) alone. A message the old schedule sent
before the push and handled after it (in the event queue while the push ran, Scheduler
delivering late within a ``jitter`` window or retrying a failed delivery) carries the
old rule's ``since``: the new cron's times between the last firing and that message's
time all passed the floor. Here the old 06:00 schedule's firing of 05-02, handled at
06:05 after a push moved the cron to 07:00, started a run for 05-01 07:00 (logical date
2026-05-01, which ran at 06:00 already).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import with_time
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.inbox import handle_event
from podium.service.triggers import schedule_name
from tests.integration.test_trigger_catchup_after_cron_change import _wf as catchup_workflow


def _wf(cron: str) -> dict[str, object]:
    return catchup_workflow(cron, name="stale_fire", catchup="all")


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-05-01T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        yield runtime


def _message(rt: LocalRuntime, at: str) -> dict[str, object]:
    """The fire message the trigger's current schedule sends for ``at``."""
    assert rt.services.schedules is not None
    spec = rt.services.schedules.get(schedule_name("stale_fire", "nightly"))
    assert spec is not None
    return with_time(spec.message, parse_iso(at))


def test_a_late_firing_of_the_old_cron_catches_up_no_time_of_the_new_one(rt: LocalRuntime) -> None:
    rt.push(_wf("0 6 * * *"))
    rt.clock.advance_to(parse_iso("2026-05-01T06:00:00Z"))
    handle_event(rt.services, _message(rt, "2026-05-01T06:00:00Z"))  # ran for 05-01

    # 05-02 06:00: the old schedule sends its firing; before it is handled the cron is
    # moved to 07:00 (same trigger id), at 06:05.
    rt.clock.advance_to(parse_iso("2026-05-02T06:00:00Z"))
    in_flight = _message(rt, "2026-05-02T06:00:00Z")
    rt.clock.advance_to(parse_iso("2026-05-02T06:05:00Z"))
    rt.push(_wf("0 7 * * *"))
    handle_event(rt.services, in_flight)

    runs = rt.store.list_runs("stale_fire", 100)
    by_date = sorted((r.logical_date, r.run_id) for r in runs)
    dates = [d for d, _ in by_date]
    assert dates.count("2026-05-01") == 1, (
        f"2026-05-01 ran {dates.count('2026-05-01')} times: the new cron's 05-01 07:00,"
        " from before the push, was caught up"
    )
    assert dates == ["2026-05-01", "2026-05-02"]
