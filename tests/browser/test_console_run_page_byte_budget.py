"""The run page's parts bounded by the view (service/console_views.py): a page of steps
cut at its byte budget, the action log at its newest actions; the console follows and
says so."""

from __future__ import annotations

from typing import Any

import pytest

from podium.local.dev_server import DevServer, wait_until
from podium.service import console_views
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

NAPS = {
    "name": "budget_naps",
    "steps": [
        {"id": "nap", "type": "sleep", "seconds": 600},
        {"id": "quick", "type": "noop"},
        {"id": "quicker", "type": "noop"},
    ],
}


def test_a_page_cut_at_its_byte_budget_pages_on_where_it_ended(
    dev: DevServer, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of steps now ends early past STEPS_PAGE_BYTES (a step retried 99 times
    with long errors, many of them): the pager said rows up to offset + limit, and Next
    skipped to offset + limit, past the rows the page left out. It says the rows shown
    and pages on from ``next_offset``. The action log, cut to its newest actions, says
    how many older ones it left out."""
    monkeypatch.setattr(console_views, "STEPS_PAGE_BYTES", 1, raising=False)  # a row a page
    monkeypatch.setattr(console_views, "MAX_ACTION_LOG", 1, raising=False)
    run_id = _start(dev, NAPS)
    try:
        assert wait_until(
            lambda: any(s["status"] == "RUNNING" for s in call(dev, f"/runs/{run_id}")[1]["steps"])
        )
        for action in ("pause", "resume"):
            assert call(dev, f"/runs/{run_id}/actions", {"action": action})[0] == 200
        page.goto(f"{dev.url}/#/runs/{run_id}")
        expect(page.locator("#page-info")).to_have_text("1\u20131 of 3")
        expect(page.locator(".step-row")).to_have_count(1)
        expect(page.locator("#action-log-omitted")).to_contain_text("1 earlier action not shown")
        page.click("#page-next")
        expect(page.locator("#page-info")).to_have_text("2\u20132 of 3")
        expect(page.locator(".step-row")).to_have_attribute("data-step", "quick")
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_prev_goes_back_to_where_the_page_before_a_cut_one_began(
    dev: DevServer, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Prev went back a whole limit from a page that followed pages cut at their byte
    budget: from the third row (pages of one row each) it went to the first, passing
    over the second. It goes back to where the page before began, as Next found it."""
    monkeypatch.setattr(console_views, "STEPS_PAGE_BYTES", 1, raising=False)  # a row a page
    run_id = _start(dev, NAPS)
    try:
        page.goto(f"{dev.url}/#/runs/{run_id}")
        expect(page.locator("#page-info")).to_have_text("1\u20131 of 3")
        page.click("#page-next")
        expect(page.locator("#page-info")).to_have_text("2\u20132 of 3")
        page.click("#page-next")
        expect(page.locator("#page-info")).to_have_text("3\u20133 of 3")
        page.click("#page-prev")
        expect(page.locator("#page-info")).to_have_text("2\u20132 of 3")
        expect(page.locator(".step-row")).to_have_attribute("data-step", "quick")
        page.click("#page-prev")
        expect(page.locator("#page-info")).to_have_text("1\u20131 of 3")
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
