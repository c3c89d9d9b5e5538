"""A step waiting for signals, in the console's step detail, on a real ``podium dev`` in
Chromium.

A step with ``wait_for`` waits WAITING_FOR_SIGNALS until a signal matching each entry is
stored. Its detail said only that status: not which signals it waits for, nor which of
them had arrived and which it still lacked. It now lists each signal it waits for
(with its match), arrived (the one matched) or missing, and once released, the signals
that released it.
"""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish, _start

WAITS = {
    "name": "waits_for_two",
    "steps": [
        {
            "id": "report",
            "type": "noop",
            "wait_for": [
                {"signal": "sales_ready", "match": {"day": "2026-01-15"}},
                {"signal": "costs_ready", "since": "step_start"},
            ],
        }
    ],
}


def _status(dev: DevServer, run_id: str) -> str | None:
    body = call(dev, f"/runs/{run_id}")[1]
    return next((s["status"] for s in body.get("steps", []) if s["step"] == "report"), None)


def test_a_waiting_step_says_which_signals_arrived_and_which_it_lacks(
    dev: DevServer, page: Any
) -> None:
    run_id = _start(dev, WAITS)
    assert wait_until(lambda: _status(dev, run_id) == "WAITING_FOR_SIGNALS", 30)
    status, sent = call(dev, "/signals", {"name": "sales_ready", "params": {"day": "2026-01-15"}})
    assert status in (200, 201), sent
    # Another day's: matches no entry, so it releases nothing.
    call(dev, "/signals", {"name": "sales_ready", "params": {"day": "2026-01-16"}})

    page.goto(f"{dev.url}/#/runs/{run_id}?step=report")
    box = page.locator("#detail-signals")
    # Before the fix: no such section (the detail said "waiting for signals" only).
    expect(box.locator("li")).to_have_count(2)
    sales = box.locator("li[data-signal='sales_ready']")
    costs = box.locator("li[data-signal='costs_ready']")
    expect(sales).to_have_attribute("data-state", "arrived")
    expect(costs).to_have_attribute("data-state", "missing")
    assert 'day = "2026-01-15"' in sales.inner_text()
    assert "sent since the wait began" in costs.inner_text()
    expect(page.locator("#detail-signals-summary")).to_contain_text("waiting for 1 of 2 signals")
    assert _status(dev, run_id) == "WAITING_FOR_SIGNALS"

    # The last one arrives: the step is released, and its detail keeps what released it.
    call(dev, "/signals", {"name": "costs_ready", "params": {}})
    assert _finish(dev, run_id)["run"]["status"] == "SUCCEEDED"
    expect(costs).to_have_attribute("data-state", "arrived", timeout=10_000)
    expect(sales).to_have_attribute("data-state", "arrived")
    expect(page.locator("#detail-signals-summary")).to_contain_text("waits for 2 signals")
