"""The run page's "live" badge says whether the page is following the run."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLOW = {
    "name": "offline_badge",
    "steps": [
        {"id": "first", "type": "noop"},
        {"id": "wait", "type": "sleep", "seconds": 600, "depends_on": ["first"]},
    ],
}


def test_the_live_badge_goes_off_while_the_server_does_not_answer(
    dev: DevServer, page: Any
) -> None:
    """When the run page's refresh got no answer (``podium dev`` stopped, the network
    gone), ``loadRun`` replaced the head with "Could not load: No answer from the server"
    but left the top bar's badge green and saying "live" (``setLive`` was not called on
    the error path), over a graph, step list and open step frozen as they last were (the
    step still RUNNING, its Stop button still there). While the refreshes fail, the
    badge now says "offline · retrying" (``#live`` loses its ``on`` class) and the open
    step's actions are disabled; both are back once the server answers again."""
    run_id = _start(dev, SLOW)
    assert wait_until(
        lambda: any(
            s["step"] == "wait" and s["status"] == "RUNNING"
            for s in call(dev, f"/runs/{run_id}")[1].get("steps", [])
        )
    )
    page.goto(f"{dev.url}/#/runs/{run_id}?step=wait")
    expect(page.locator("#live")).to_have_class("live on")
    stop = page.locator('#step-actions button[data-action="stop"]')
    expect(stop).to_be_enabled()

    page.route("**/api/console/**", lambda route: route.abort())  # the server is gone
    expect(page.locator("#run-head .problem")).to_contain_text("No answer from the server")
    expect(page.locator("#live")).not_to_have_class("live on")
    expect(page.locator("#live")).to_contain_text("offline")
    expect(stop).to_be_disabled()

    page.unroute("**/api/console/**")
    expect(page.locator("#live")).to_have_class("live on", timeout=15_000)
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator('#step-actions button[data-action="stop"]')).to_be_enabled()
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_an_action_the_server_never_answered_could_not_be_sent(dev: DevServer, page: Any) -> None:
    """An action posted while the server did not answer said "Stop refused: No answer
    from the server", as if the server had refused it; nothing did: it could not be
    sent."""
    run_id = _start(dev, SLOW)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    expect(page.locator("#live")).to_have_class("live on")
    page.route("**/runs/*/actions", lambda route: route.abort())
    page.click('#run-actions button[data-action="stop"]')
    page.click("#action-confirm")
    note = page.locator("#action-note")
    expect(note).to_contain_text("Stop could not be sent: No answer from the server")
    expect(note).not_to_contain_text("refused")
    page.unroute("**/runs/*/actions")
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
