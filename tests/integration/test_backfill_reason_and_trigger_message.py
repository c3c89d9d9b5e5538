"""The backfill summary's ``reason`` and the API's words for its fields.

docs/workflow-language.md ("Backfill"): "The summary's `reason` says why a plan is empty
or shorter than the range: a rate trigger has no times before it was created (its
`since`), or the range reaches past now." A range of a rate trigger that does both (it
starts before the trigger existed and ends in the future) is cut at both ends, but
``service/backfill.plan`` kept one reason (``_before_rate_trigger(...) or reason``), so
the summary did not say that the times after now were left to the schedule: both are
said now.

The API's answer to a backfill of a workflow with several schedules named only the
CLI's flag (``--trigger``) as the fix: it names the request's field ``trigger`` now
(and the flag beside it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WF = {
    "name": "two_schedules",
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {"id": "hourly", "rate": "1 hour"},
        {"id": "daily", "cron": "0 6 * * *"},
    ],
}
HOUR = 3_600_000


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-04-01T00:00:00Z"))
    with LocalRuntime(clock=clock) as runtime:
        status, body = call("POST", "/workflows", WF)
        assert status == 201, body
        # The rate trigger exists from now on (its since); three hours pass.
        status, plan = call(
            "POST",
            "/workflows/two_schedules/backfill",
            {"from": "2026-04-01", "to": "2026-04-01", "trigger": "hourly", "dry_run": True},
        )
        assert status == 200, plan
        clock.advance(3 * HOUR)
        yield runtime


def test_a_range_cut_at_both_ends_says_both(rt: LocalRuntime) -> None:
    status, plan = call(
        "POST",
        "/workflows/two_schedules/backfill",
        {"from": "2026-03-30", "to": "2026-04-05", "trigger": "hourly", "dry_run": True},
    )
    assert status == 200, plan
    assert 1 <= plan["times"] <= 4, plan["times"]  # 00:00 to 03:00 on April 1st only
    reason = plan["reason"] or ""
    assert "existed" in reason, reason  # the start: before the trigger was created
    # Before the fix: only the start was said; the days up to April 5th, left to the
    # schedule, were not.
    assert "past now" in reason, reason


def test_the_api_names_the_body_field_to_pick_a_trigger(rt: LocalRuntime) -> None:
    status, refused = call(
        "POST", "/workflows/two_schedules/backfill", {"from": "2026-03-01", "to": "2026-03-02"}
    )
    assert status == 400, refused
    [issue] = refused["errors"]
    assert issue["path"] == "body.trigger"
    # Before the fix: "... (hourly, daily): name one with --trigger", a CLI flag alone,
    # which the API caller has no use for.
    assert "name one in trigger (podium backfill --trigger)" in issue["message"], issue
