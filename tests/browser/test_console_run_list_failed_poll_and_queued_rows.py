"""The run list while it refreshes itself: a refresh that fails, a run still queued."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLEEPY = {"name": "poll_sleepy", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}


def test_a_failed_refresh_wiped_the_rows(dev: DevServer, page: Any) -> None:
    """A live run list (a run going on: refreshed every 2 s) whose refresh got no answer
    (the server restarting, the network gone for a moment) replaced every row with "Could
    not load", and what was on screen a second before was gone. The rows stay and the
    top bar says "offline", as the run page does; the next good answer clears it."""
    run_id = _start(dev, SLEEPY)
    try:
        page.goto(f"{dev.url}/#/?workflow=poll_sleepy")
        expect(page.locator(f'tr.run-row[data-run="{run_id}"]')).to_have_count(1)
        page.route("**/api/console/runs?*", lambda route: route.abort())
        expect(page.locator("#live")).to_contain_text("offline", timeout=15_000)
        expect(page.locator(f'tr.run-row[data-run="{run_id}"]')).to_have_count(1)
        page.unroute("**/api/console/runs?*")
        expect(page.locator("#live")).to_be_hidden(timeout=15_000)
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


QUEUE = {
    "name": "poll_queue",  # sequential (the default): one run at a time, others QUEUED
    "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
}


def test_a_queued_run_showed_a_start_and_a_growing_duration(dev: DevServer, page: Any) -> None:
    """A run waiting QUEUED behind another (not started: no ``started_at``) showed its
    creation as its Started time and a duration counting up ("3.0 s…"), as if it ran.
    Its row says "queued" and has no duration until it starts."""
    assert call(dev, "/workflows", QUEUE)[0] in (200, 201)
    first = call(dev, "/workflows/poll_queue/runs", {})[1]["run_id"]
    second = call(dev, "/workflows/poll_queue/runs", {})[1]["run_id"]
    try:
        assert call(dev, f"/runs/{second}")[1]["run"]["status"] == "QUEUED"
        page.goto(f"{dev.url}/#/?workflow=poll_queue")
        row = page.locator(f'tr.run-row[data-run="{second}"]')
        expect(row).to_have_attribute("data-status", "QUEUED")
        cells = row.locator("td")
        assert cells.nth(5).inner_text().strip().startswith("queued"), cells.nth(5).inner_text()
        assert cells.nth(6).inner_text().strip() == "\u2014", cells.nth(6).inner_text()
    finally:
        for run_id in (second, first):
            call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
