"""The run page draws its newest read only: a poll answering late draws nothing old."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLOW = {"name": "crossing_reads", "steps": [{"id": "wait", "type": "sleep", "seconds": 600}]}


def test_a_poll_sent_before_an_action_does_not_draw_the_run_as_it_was(
    dev: DevServer, page: Any
) -> None:
    """A refresh of the run page sent before a Pause, answering after the Pause's own
    read of the page (answers may cross), was drawn last: the run, PAUSED, was shown
    RUNNING with its Pause button again until the next refresh, 2 s later. The page now
    draws its newest read only (as the step's detail did already)."""
    run_id = _start(dev, SLOW)
    held: list[Any] = []
    holding = {"on": False}

    def hold_one_poll(route: Any) -> None:
        if holding["on"]:
            holding["on"] = False
            held.append((route, route.fetch()))  # answered now (RUNNING), drawn later
            return
        route.continue_()

    try:
        page.goto(f"{dev.url}/#/runs/{run_id}")
        expect(page.locator('#run-actions button[data-action="pause"]')).to_have_count(1)
        page.route(f"**/api/console/runs/{run_id}?*", hold_one_poll)
        holding["on"] = True
        expect(page.locator("#live")).to_have_class("live on")
        for _ in range(100):  # Playwright calls a route's handler while it waits itself
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "no refresh was sent"
        page.click('#run-actions button[data-action="pause"]')
        page.click("#action-confirm")
        expect(page.locator('#run-actions button[data-action="resume"]')).to_have_count(1)
        route, stale = held[0]
        route.fulfill(response=stale)  # the poll sent before the pause answers now
        page.wait_for_timeout(400)  # drawn by now if it is drawn (the next poll is 2 s on)
        assert page.locator('#run-actions button[data-action="pause"]').count() == 0, (
            "the late answer of a poll sent before the pause drew the run as RUNNING again"
        )
        expect(page.locator('#run-actions button[data-action="resume"]')).to_have_count(1)
        assert call(dev, f"/runs/{run_id}")[1]["run"]["status"] == "PAUSED"
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
