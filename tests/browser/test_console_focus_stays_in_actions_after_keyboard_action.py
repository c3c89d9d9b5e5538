"""The focus after an action done by keyboard, on a real ``podium dev`` in headless
Chromium."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLOW = {
    "name": "slow_keys",
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 600},
        {"id": "after", "type": "noop", "depends_on": ["wait"]},
    ],
}

_FOCUSED = """() => {
  const a = document.activeElement;
  return { tag: a.tagName, id: a.id, action: a.getAttribute('data-action'),
           inRunActions: !!a.closest('#run-actions') };
}"""


def _status(dev: DevServer, run_id: str) -> str:
    return str(call(dev, f"/runs/{run_id}")[1]["run"]["status"])


def test_the_focus_stays_on_the_run_actions_after_an_action_done_by_keyboard(
    dev: DevServer, page: Any
) -> None:
    """A keyboard user focused Pause, pressed Enter, typed a reason, tabbed to Confirm
    and pressed Enter: the run paused, Pause gave way to Resume, and the focus fell to
    <body> (the refresh looked for the Pause button it had, which was gone), so the next
    Tab started again from the top of the page. The focus now stays in the run's actions,
    on the button at Pause's place: Resume."""
    run_id = _start(dev, SLOW)
    try:
        page.goto(f"{dev.url}/#/runs/{run_id}")
        pause = page.locator('#run-actions button[data-action="pause"]')
        pause.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#action-reason")).to_be_focused()
        page.keyboard.type("look at the data first")
        page.keyboard.press("Tab")  # Cancel
        page.keyboard.press("Tab")  # Confirm
        expect(page.locator("#action-confirm")).to_be_focused()
        page.keyboard.press("Enter")
        assert wait_until(lambda: _status(dev, run_id) == "PAUSED")
        expect(page.locator('#run-actions button[data-action="resume"]')).to_have_count(1)
        expect(page.locator("#action-note")).to_contain_text("Pause: run is PAUSED")
        focused = page.evaluate(_FOCUSED)
        assert focused["inRunActions"], f"after the action the focus is on {focused}"
        assert focused["action"] == "resume", focused
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
