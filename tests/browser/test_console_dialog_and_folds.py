"""The console's action dialog and folded tracebacks, on a real ``podium dev`` in
headless Chromium.

Escape did not close the action dialog (only Cancel did), and closing it left the focus
nowhere. And the live page redraws the open step every 2 s: a traceback the user opened
folded shut again at each refresh (and the last one, open by default, opened again)."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLOW = {
    "name": "slow_dialog",
    "steps": [
        {"id": "first", "type": "noop"},
        {"id": "wait", "type": "sleep", "seconds": 600, "depends_on": ["first"]},
    ],
}


def _waiting(dev: DevServer) -> str:
    run_id = _start(dev, SLOW)
    assert wait_until(
        lambda: any(
            s["step"] == "wait" and s["status"] == "RUNNING"
            for s in call(dev, f"/runs/{run_id}")[1]["steps"]
        ),
        20,
    )
    return run_id


def test_escape_closes_the_action_dialog_and_gives_the_focus_back(
    dev: DevServer, page: Any
) -> None:
    run_id = _waiting(dev)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=wait")
    stop = page.locator('#run-actions button[data-action="stop"]')
    stop.click()
    expect(page.locator("#action-reason")).to_be_focused()
    page.keyboard.type("changed my mind")
    page.keyboard.press("Escape")
    expect(page.locator("#action-dialog")).to_have_count(0)
    expect(stop).to_be_focused()  # where the user was, to go on with the keyboard

    # From anywhere in the dialog (here its Cancel button), and for a step's action too.
    step_stop = page.locator('#step-actions button[data-action="stop"]')
    step_stop.click()
    page.focus("#action-cancel")
    page.keyboard.press("Escape")
    expect(page.locator("#action-dialog")).to_have_count(0)
    expect(step_stop).to_be_focused()

    # Escape asked nothing of the API; the dialog opens again as before, and Cancel
    # gives the focus back too.
    assert call(dev, f"/runs/{run_id}")[1]["run"]["status"] == "RUNNING"
    stop.click()
    page.click("#action-cancel")
    expect(page.locator("#action-dialog")).to_have_count(0)
    expect(stop).to_be_focused()
    page.keyboard.press("Escape")  # no dialog: nothing happens, nothing breaks
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_tracebacks_stay_as_the_user_left_them_across_refreshes(dev: DevServer, page: Any) -> None:
    run_id = _waiting(dev)  # live: the open step is read again every 2 s

    def step_view(route: Any) -> None:
        body = route.fetch().json()
        body["step"]["error"] = "RuntimeError: warehouse busy"
        body["attempts"][-1].update(
            error="RuntimeError: warehouse busy", traceback="Traceback (most recent call last):"
        )
        route.fulfill(json=body)

    page.route("**/api/console/runs/*/step?*", step_view)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=first")
    last = page.locator("#detail details.tb:has(#detail-traceback)")
    attempt = page.locator("#detail-attempts details.tb")
    expect(last).to_have_attribute("open", "")  # the newest failure's, open at first
    assert attempt.evaluate("el => el.open") is False

    attempt.locator("summary").click()  # open one, fold the other
    last.locator("summary").click()
    assert attempt.evaluate("el => el.open") is True and last.evaluate("el => el.open") is False

    for _ in range(2):  # two refreshes redraw the detail: marked elements are replaced
        page.locator("#detail-attempts").evaluate("el => { el.dataset.mark = 'old'; }")
        expect(page.locator("#detail-attempts[data-mark='old']")).to_have_count(0, timeout=10_000)
        expect(page.locator("#detail-attempts")).to_have_count(1)
        assert attempt.evaluate("el => el.open") is True
        assert last.evaluate("el => el.open") is False

    # Another step starts from the defaults again.
    page.goto(f"{dev.url}/#/runs/{run_id}?step=wait")
    expect(last).to_have_attribute("open", "")
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
