"""The console's iteration grid of a loop step that a restart took over, on a real
``podium dev`` in Chromium.

Run R's foreach of 4 succeeds and the step after it fails; R is restarted from
incomplete, and the new run takes the foreach over: its iterations ran in R. The step's
grid showed R's 4 SUCCEEDED cells (``loop_views.iterations`` follows the takeover back),
but its header, read from the step row's ``children``, said "none yet": the taken-over
record counts no children of its own. The step's views now carry the counts of the run
the loop ran in (``step_paths.with_home_counts``).
"""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish, _start

LOOP = {
    "name": "grid_taken_over",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1, 2, 3]},
            "steps": [{"id": "work", "type": "noop"}],
        },
        {"id": "report", "type": "fail", "message": "report broken", "depends_on": ["each"]},
    ],
}


def test_the_grid_of_a_taken_over_loop_counts_the_iterations_it_shows(
    dev: DevServer, page: Any
) -> None:
    run_id = _start(dev, LOOP)
    assert _finish(dev, run_id)["run"]["status"] == "FAILED"
    status, done = call(dev, f"/runs/{run_id}/actions", {"action": "restart"})
    assert status == 200, done
    new = done["new_run"]
    assert _finish(dev, new)["run"]["status"] == "FAILED"

    page.goto(f"{dev.url}/#/runs/{new}?step=each")
    expect(page.locator("#detail-iterations .it-cell.s-SUCCEEDED")).to_have_count(4)
    head = page.inner_text("#detail-iterations .it-head")
    # Before the fix: "none yet" beside four SUCCEEDED cells.
    assert "none yet" not in head, head
    assert "4 succeeded" in head, head
