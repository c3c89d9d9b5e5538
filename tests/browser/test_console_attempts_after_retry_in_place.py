"""A step retried in place (``podium steps retry``, the console's "Retry now" on a FAILED
step while its run still runs) keeps its earlier attempts in the console's step
detail."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect

BRANCHES = {
    "name": "retry_in_place",
    "steps": [
        {"id": "bad", "type": "lambda", "function": "tests.browser.console_support:always_fails"},
        {"id": "long", "type": "sleep", "seconds": 600},
        {"id": "after_bad", "type": "noop", "depends_on": ["bad"]},
    ],
}


def _step(dev: DevServer, run_id: str, name: str) -> dict[str, Any]:
    steps = call(dev, f"/runs/{run_id}")[1].get("steps", [])
    return next((s for s in steps if s["step"] == name), {})


def _retried_in_place(dev: DevServer, page: Any) -> str:
    """A run whose step ``bad`` failed for good, was retried in place from the console
    and failed again; its page open on that step."""
    assert call(dev, "/workflows", BRANCHES)[0] in (200, 201)
    run_id = call(dev, "/workflows/retry_in_place/runs", {})[1]["run_id"]
    assert wait_until(lambda: _step(dev, run_id, "bad").get("status") == "FAILED")

    page.goto(f"{dev.url}/#/runs/{run_id}?step=bad")
    page.wait_for_selector('#step-actions button[data-action="retry"]')
    page.click('#step-actions button[data-action="retry"]')
    page.fill("#action-reason", "the warehouse is back")
    page.click("#action-confirm")
    assert wait_until(
        lambda: (
            _step(dev, run_id, "bad").get("attempts") == 2
            and _step(dev, run_id, "bad").get("status") == "FAILED"
        ),
        15,
    )
    page.reload()
    return run_id


def test_a_step_retried_in_place_keeps_its_first_attempt_in_the_detail(
    dev: DevServer, page: Any
) -> None:
    """``attempts_of`` (then ``console_views._attempts``) built the earlier attempts from the timeline's
    ``retry`` events only. A step that failed for good (a ``failed`` event) and was then
    retried in place by an operator has no ``retry`` event for its first attempt, so
    after the retry the detail said "Failed 2 attempts" over a table with one row (#2):
    attempt 1 and its error were gone. Its ``failed`` event now gives it a row."""
    run_id = _retried_in_place(dev, page)
    expect(page.locator("#detail .d-status")).to_contain_text("2 attempts")
    rows = page.locator("#detail-attempts tbody tr:not(.err)")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").first).to_have_text("1")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("failed")
    errors = page.locator("#detail-attempts tbody tr.err")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("down for maintenance")
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_a_step_retried_in_place_keeps_its_first_attempt_in_the_gantt(
    dev: DevServer, page: Any
) -> None:
    """The Gantt draws one running bar per attempt, the first one included (the "failed"
    timeline item of an attempt that failed for good had no start to draw it from: it
    records the attempt's ``started_at`` now)."""
    run_id = _retried_in_place(dev, page)
    try:
        expect(page.locator("#detail-attempts tbody tr:not(.err)")).to_have_count(2)
        expect(page.locator('.step-row[data-step="bad"] .seg-running')).to_have_count(2)
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
