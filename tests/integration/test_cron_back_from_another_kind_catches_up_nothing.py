"""A cron trigger whose id was another kind of trigger for a while, then a cron again.

docs/workflow-language.md (Triggers, catchup): a firing catches up "none from before
the trigger's current cron, rate or time zone took effect ... a trigger removed and added
back catches up nothing from before it came back". ``_apply_schedules``
(service/triggers.py) forgot a schedule's rule (and when it took effect) only for a
trigger gone from the workflow; a trigger still there under the same id but no longer a
schedule (an s3 trigger now) kept it, and ``_since_kept`` handed that old ``since`` to
the schedule made when the same cron came back. Its first firing then caught up
every day the id was an upload trigger, and the day of the push too. The rule is now
forgotten for a trigger that is no longer a schedule as well.
"""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import with_time
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.inbox import handle_event
from podium.service.triggers import schedule_name

CRON = {
    "id": "t",
    "cron": "0 6 * * *",
    "catchup": "all",
    "params": {"day": "${event.logical_date}"},
}
UPLOAD = {"id": "t", "s3": {"bucket": "landing", "prefix": "raw/"}}


def daily(trigger: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "daily",
        "params": {"day": {"type": "string", "default": "?"}},
        "steps": [{"id": "a", "type": "noop"}],
        "run_strategy": {"parallel": 20},
        "triggers": [trigger],
    }


def test_a_cron_back_after_being_an_s3_trigger_catches_up_nothing_from_before() -> None:
    """The nightly cron (catchup: all) was turned into an upload trigger on 2 January and
    back into the same cron at noon on 10 January: its firing on 11 January started the
    runs of 3 to 10 January too (8 runs nobody scheduled). It starts 11 January's alone
    now: the cron took effect again on 10 January at noon."""
    clock = ManualClock(start_ms=parse_iso("2026-01-01T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:

        def fire(at: str) -> None:
            clock.advance_to(parse_iso(at))
            spec = rt.services.schedules.get(schedule_name("daily", "t"))  # type: ignore[union-attr]
            assert spec is not None, "the cron trigger has no schedule"
            handle_event(rt.services, with_time(spec.message, parse_iso(at)))

        rt.push(daily(CRON))
        fire("2026-01-02T06:00:00Z")
        clock.advance_to(parse_iso("2026-01-02T12:00:00Z"))
        rt.push(daily(UPLOAD))  # the id t is an s3 trigger now: no schedule
        clock.advance_to(parse_iso("2026-01-10T12:00:00Z"))
        rt.push(daily(CRON))  # the cron again, from now on
        fire("2026-01-11T06:00:00Z")

        days = sorted(r.params["day"] for r in rt.store.list_runs("daily", limit=50))
        assert days == ["2026-01-02", "2026-01-11"], (
            f"the cron caught up {len(days) - 2} days from before it came back: {days}"
        )
