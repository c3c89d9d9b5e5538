"""A loop's iterations held at a breakpoint, in the console's iteration grid, on a real
``podium dev`` in Chromium.

A breakpoint on a step of a foreach's body (``each/work``, here in iteration 1 only)
holds that step PAUSED in the iteration's run, which stays RUNNING: the grid showed the
iteration as one more running cell, and nothing on the loop step said its run waited for
a person. The grid now marks a held iteration (and counts them in its header), and its
cell opens the held step, whose Resume lets it go on.
"""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish, _start

LOOP = {
    "name": "grid_held",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1, 2]},
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}


def _step_status(dev: DevServer, run_id: str, step: str) -> str | None:
    body = call(dev, f"/runs/{run_id}")[1]
    return next((s["status"] for s in body.get("steps", []) if s["step"] == step), None)


def test_the_grid_shows_an_iteration_held_at_a_breakpoint_and_resumes_it(
    dev: DevServer, page: Any
) -> None:
    status, pushed = call(dev, "/workflows", LOOP)
    assert status in (200, 201), pushed
    status, set_ = call(
        dev,
        "/workflows/grid_held/breakpoints",
        {"action": "set", "step": "each/work", "iteration": 1},
    )
    assert status == 200, set_
    run_id = _start(dev, LOOP)
    held_run = f"{run_id}.each.1"
    assert wait_until(lambda: _step_status(dev, held_run, "work") == "PAUSED", 30)
    assert wait_until(
        lambda: (
            call(dev, f"/api/console/runs/{run_id}/step?name=each")[1]["step"]["children"][
                "succeeded"
            ]
            == 2
        ),
        30,
    )

    page.goto(f"{dev.url}/#/runs/{run_id}?step=each")
    expect(page.locator("#detail-iterations .it-cell")).to_have_count(3)
    cell = page.locator("#detail-iterations .it-cell[data-index='1']")
    # Before the fix: a plain running cell, and "1 running · 2 succeeded" above it.
    expect(cell).to_have_class("it-cell s-RUNNING held")
    assert "paused at a breakpoint on step work" in (cell.get_attribute("title") or "")
    head = page.inner_text("#detail-iterations .it-head")
    assert "1 paused at a breakpoint" in head and "2 succeeded" in head, head
    assert "running" not in head, head  # the only running iteration is the held one
    assert page.locator("#detail-iterations .it-cell.held").count() == 1

    # The cell opens the held step of the iteration's run, where Resume lets it go on.
    cell.click()
    expect(page.locator("#detail-title")).to_have_text("work")
    assert held_run in page.url
    page.click("#step-actions button[data-action='resume']")
    page.click("#action-confirm")
    assert _finish(dev, run_id)["run"]["status"] == "SUCCEEDED"
