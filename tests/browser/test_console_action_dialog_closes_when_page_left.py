"""The action dialog goes with the page it was opened on (a real ``podium dev``)."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLOW = {
    "name": "slow_leave",
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 600},
        {"id": "after", "type": "noop", "depends_on": ["wait"]},
    ],
}


def test_the_action_dialog_goes_with_the_page_it_was_opened_on(dev: DevServer, page: Any) -> None:
    """Stop opened its dialog on run A's page; the user pressed the browser's Back to the
    run list: the list was drawn, and the dialog "Stop run A?" stayed open over it, its
    Confirm still stopping run A from a page that no longer showed it. Leaving the page
    now closes its dialog, as Cancel does."""
    run_id = _start(dev, SLOW)
    try:
        page.goto(f"{dev.url}/#/")
        page.click(f'tr.run-row[data-run="{run_id}"] a')
        page.click('#run-actions button[data-action="stop"]')
        expect(page.locator("#action-dialog")).to_have_count(1)
        page.go_back()
        expect(page.locator(f'tr.run-row[data-run="{run_id}"]')).to_have_count(1)
        expect(page.locator("#action-dialog")).to_have_count(0)
        assert call(dev, f"/runs/{run_id}")[1]["run"]["status"] == "RUNNING"
        # Its keys went with it: Escape and Tab are the page's again.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement !== document.body")
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
