"""The run list counts a running run's duration to the server's clock."""

from __future__ import annotations

import datetime
import time
from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLEEPY = {"name": "clock_sleepy", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}


def test_a_running_runs_duration_in_the_run_list_is_not_negative(dev: DevServer, page: Any) -> None:
    """The run list counted a running run's duration with the browser's clock
    (``Date.now() - started_at``), the run page with the server's (``data.now``): with
    the laptop's clock 5 minutes behind the stack's, the list said "-299714 ms…" while
    the run page said "1.0 s…". The list's view says ``now`` and the list counts to it
    (and ``fmtDur`` never shows a negative duration)."""
    run_id = _start(dev, SLEEPY)
    try:
        assert wait_until(
            lambda: any(s["status"] == "RUNNING" for s in call(dev, f"/runs/{run_id}")[1]["steps"])
        )
        page.clock.set_system_time(datetime.datetime.fromtimestamp(time.time() - 300))
        page.goto(f"{dev.url}/#/?workflow=clock_sleepy")
        row = page.locator(f'tr.run-row[data-run="{run_id}"]')
        expect(row).to_have_attribute("data-status", "RUNNING")
        duration = row.locator("td").nth(6).inner_text()
        assert not duration.startswith("-"), f"the run list says its duration is {duration!r}"
        assert duration != "0 ms…", "counted to the browser's clock, clamped to 0"
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
