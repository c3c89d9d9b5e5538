"""A backfill whose range reached past *now* started the runs of scheduled times that
had not come yet, at once, and so took those times from the schedule; now a backfill
plans only the times that have come (a range wholly in the future is refused).

service/backfill.py ``plan`` bounded the range by the dates given only (1970-01-02 to
2200-12-31): a ``--to`` later than today planned, and ``execute`` started, the runs of
tomorrow's and the day after's scheduled times right then, with their logical dates.
Their run ids are the ids the schedule gives those times (core/engine/backfill.py
``first_run_id``), so when a time really came its firing found the run the backfill had
started early (before that day's data existed) and started nothing: that logical date
was never processed on time. Airflow refuses a backfill wholly in the future and creates
no run for the future part of a range.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import with_time
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.backfill import BackfillRequest, backfill_request
from podium.service.inbox import handle_event
from podium.service.triggers import schedule_name

WF = {
    "name": "bf_future",
    "params": {"day": {"type": "string", "default": "none"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 10},
    "triggers": [{"id": "daily", "cron": "0 6 * * *", "params": {"day": "${event.logical_date}"}}],
}
NOW = "2026-04-01T12:00:00Z"  # 2026-04-01 06:00 has come; 04-02 and 04-03 have not


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock(start_ms=parse_iso(NOW))) as runtime:
        runtime.push(WF)
        yield runtime


def test_a_backfill_to_a_later_date_starts_no_run_for_a_time_still_to_come(
    rt: LocalRuntime,
) -> None:
    now = rt.clock.now_ms()
    request = BackfillRequest.model_validate({"from": "2026-03-30", "to": "2026-04-03"})
    try:
        summary = backfill_request(rt.services, "bf_future", request)
    except DefinitionError:
        summary = None  # refusing a range that reaches past now is a fix too
    if summary is not None:
        future = [e["time"] for e in summary["entries"] if parse_iso(e["time"]) > now]
        assert future == [], f"the backfill planned times still to come: {future}"
    rt.pump()

    # 2026-04-02 06:00 comes: its firing is the run of that day, started then.
    at = parse_iso("2026-04-02T06:00:00Z")
    rt.clock.advance_to(at)
    spec = rt.services.schedules.get(schedule_name("bf_future", "daily"))  # type: ignore[union-attr]
    assert spec is not None
    handle_event(rt.services, with_time(spec.message, at))
    runs = [r for r in rt.store.list_runs("bf_future", 100) if r.logical_date == "2026-04-02"]
    assert len(runs) == 1
    run = runs[0]
    assert (run.trigger, run.created_at) == ("cron:daily", at), (
        f"the run of 2026-04-02 was started by {run.trigger} at {run.created_at},"
        f" {(at - run.created_at) / 3_600_000:.0f} h before its time came"
    )
