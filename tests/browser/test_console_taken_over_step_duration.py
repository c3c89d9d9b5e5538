"""The duration of a step a restart took over, on a real ``podium dev`` in Chromium.

A restart from incomplete takes the steps that succeeded over (``reuse.take_over``): the
new run's record starts and ends at the restart's write. The console showed a taken-over
foreach as having run for "0 ms", in the step list and in its detail. It now shows the
duration the step ran for in the run it was taken over from.
"""

from __future__ import annotations

import re
from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish, _start
from tests.browser.test_console_taken_over_loop_grid import LOOP


def _shown_duration(page: Any, url: str) -> tuple[str, str]:
    page.goto(url)
    row = page.locator(".step-row[data-step='each'] .g-dur")
    expect(row).not_to_have_text("")
    expect(page.locator("#detail .d-status")).to_be_visible()
    return row.inner_text().strip(), page.inner_text("#detail .d-status")


def test_a_taken_over_loop_step_shows_the_duration_it_ran_for(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, LOOP)
    assert _finish(dev, run_id)["run"]["status"] == "FAILED"
    status, done = call(dev, f"/runs/{run_id}/actions", {"action": "restart"})
    assert status == 200, done
    new = done["new_run"]
    assert _finish(dev, new)["run"]["status"] == "FAILED"

    ran, _ = _shown_duration(page, f"{dev.url}/#/runs/{run_id}?step=each")
    assert ran not in ("0 ms", "—"), ran  # 4 iterations, each a run: never under 0.5 ms
    page.goto(f"{dev.url}/#/")  # another page, so the run page is drawn anew
    shown, shown_detail = _shown_duration(page, f"{dev.url}/#/runs/{new}?step=each")
    # Before the fix: "0 ms" in the step list and in the detail.
    assert shown == ran, (shown, ran)
    # "20 ms" is a real duration: match "0 ms" as a whole word only.
    assert not re.search(r"(?<![\d.])0 ms", shown_detail) and ran in shown_detail, shown_detail
