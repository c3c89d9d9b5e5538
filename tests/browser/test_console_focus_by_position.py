"""The console's focus restore, found by a review of it: an iteration cell keeps the
focus on that cell, not the first cell of its status. Failed before its fix."""

from __future__ import annotations

import time
from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call
from tests.browser.test_console import _start

SLOW_LOOP = {
    "name": "review_slow_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1, 2, 3]},
            "concurrency": 4,
            "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
        }
    ],
}


def _iterations_running(dev: DevServer, run_id: str) -> bool:
    code, data = call(dev, f"/api/console/runs/{run_id}/step?name=each")
    if code != 200 or not data.get("iterations"):
        return False
    cells = data["iterations"]["iterations"]
    return len(cells) == 4 and all(c["status"] == "RUNNING" for c in cells)


def test_focus_on_an_iteration_cell_stays_on_that_cell(dev: DevServer, page: Any) -> None:
    """The focus kept across the live refresh (app.js ``focusPlace``) finds the element
    again by the first of FOCUS_KEYS it has, in that list's order: an iteration cell has
    ``data-status`` and ``data-index``, and data-status comes first, so the cell is found
    again as ``#detail-iterations a[data-status="RUNNING"]``: the first running cell.
    A keyboard user tabbing through a running loop's grid is thrown back to cell #0 every
    2 s. Right: the focus stays on the cell that had it (#2): look an element up by what
    is unique to it (data-index before data-status; likewise a tag chip, ``data-tag``,
    is the same on many run rows)."""
    run_id = _start(dev, SLOW_LOOP)
    assert wait_until(lambda: _iterations_running(dev, run_id), 30)
    polls: list[float] = []
    page.on(
        "request",
        lambda r: polls.append(time.monotonic()) if "/step?name=each" in r.url else None,
    )
    page.goto(f"{dev.url}/#/runs/{run_id}?step=each")
    page.wait_for_selector("#detail-iterations .it-cell[data-index='2']")
    page.focus("#detail-iterations .it-cell[data-index='2']")
    since = time.monotonic()
    assert wait_until(lambda: (page.evaluate("1"), sum(t > since for t in polls) >= 2)[1], 20)
    page.wait_for_timeout(400)
    focused = page.evaluate(
        "document.activeElement.dataset.index || document.activeElement.tagName"
    )
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
    assert focused == "2", f"the focus moved to {focused} after a refresh"
