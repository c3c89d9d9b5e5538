"""Enter in the action dialog's reason confirms (a real ``podium dev``)."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLOW = {
    "name": "slow_enter",
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 600},
        {"id": "after", "type": "noop", "depends_on": ["wait"]},
    ],
}


def test_enter_in_the_reason_confirms_the_action(dev: DevServer, page: Any) -> None:
    """The dialog opened with the focus in its reason; the user typed "not needed today"
    and pressed Enter, as in any one-field form: nothing happened (the reason is no
    form's field, and the dialog's keys were Escape and Tab only), and the run went on.
    Enter in the reason now confirms, as clicking Confirm does, with the reason."""
    run_id = _start(dev, SLOW)
    try:
        page.goto(f"{dev.url}/#/runs/{run_id}")
        page.click('#run-actions button[data-action="stop"]')
        expect(page.locator("#action-reason")).to_be_focused()
        page.keyboard.type("not needed today")
        page.keyboard.press("Enter")
        expect(page.locator("#action-dialog")).to_have_count(0, timeout=2_000)
        assert wait_until(lambda: call(dev, f"/runs/{run_id}")[1]["run"]["status"] == "STOPPED")
        expect(page.locator("#action-log")).to_contain_text("not needed today")
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_enter_on_cancel_still_cancels(dev: DevServer, page: Any) -> None:
    """Enter confirms from the reason only: on the Cancel button it cancels."""
    run_id = _start(dev, SLOW)
    try:
        page.goto(f"{dev.url}/#/runs/{run_id}")
        page.click('#run-actions button[data-action="stop"]')
        expect(page.locator("#action-reason")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.locator("#action-cancel")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#action-dialog")).to_have_count(0)
        page.wait_for_timeout(500)
        assert call(dev, f"/runs/{run_id}")[1]["run"]["status"] == "RUNNING"
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
