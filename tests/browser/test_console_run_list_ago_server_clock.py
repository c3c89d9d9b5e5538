"""The run list's "… ago" next to a run's start: counted from the start, to the
server's clock."""

from __future__ import annotations

import datetime
import time
from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

SLEEPY = {"name": "ago_sleepy", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}


def test_a_run_started_seconds_ago_is_not_said_to_have_started_an_hour_ago(
    dev: DevServer, page: Any
) -> None:
    """The list's view says the server's ``now`` and the Duration column counted to it
    (a fix of an earlier round), but the Started column's "… ago" still counted to the
    browser's clock: with the laptop's clock an hour ahead of the stack's, a run started
    a few seconds ago read "1 h ago" (and with it behind, "0 s ago" for an hour). It
    counts to ``now`` now, as the duration beside it does."""
    run_id = _start(dev, SLEEPY)
    try:
        page.clock.set_system_time(datetime.datetime.fromtimestamp(time.time() + 3600))
        page.goto(f"{dev.url}/#/?workflow=ago_sleepy")
        row = page.locator(f'tr.run-row[data-run="{run_id}"]')
        expect(row).to_have_attribute("data-status", "RUNNING")
        started = row.locator("td").nth(5).inner_text()
        assert started.strip().endswith("s ago"), f"the run list says it started {started!r}"
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


FIRST_IN_LINE = {
    "name": "ago_queue",  # sequential (the default): one run at a time, others QUEUED
    "steps": [{"id": "nap", "type": "sleep", "seconds": 6}],
}


def test_a_run_that_waited_in_its_queue_says_when_it_started(dev: DevServer, page: Any) -> None:
    """The Started column showed the run's start time and, beside it, "… ago" counted
    from when the run was *created*: a run that waited QUEUED behind another for 6 s,
    started a second ago, read "23:50:06  7 s ago" (an hour in a queue: "1 h ago" for a
    run that started a minute ago). Beside the start time, "ago" now counts from the
    start."""
    status, pushed = call(dev, "/workflows", FIRST_IN_LINE)
    assert status in (200, 201), pushed
    first = call(dev, "/workflows/ago_queue/runs", {})[1]["run_id"]
    second = call(dev, "/workflows/ago_queue/runs", {})[1]["run_id"]
    try:
        assert call(dev, f"/runs/{second}")[1]["run"]["status"] == "QUEUED"
        assert wait_until(lambda: call(dev, f"/runs/{second}")[1]["run"]["status"] == "RUNNING", 20)
        run = call(dev, f"/runs/{second}")[1]["run"]
        assert run["started_at"] - run["created_at"] >= 5_000, run
        page.goto(f"{dev.url}/#/?workflow=ago_queue")
        row = page.locator(f'tr.run-row[data-run="{second}"]')
        expect(row).to_have_attribute("data-status", "RUNNING")
        ago = row.locator("td").nth(5).locator("span").inner_text().strip()
        since_start = (page.evaluate("Date.now()") - run["started_at"]) / 1000
        seconds = int(ago.split(" ")[0]) if ago.endswith(" s ago") else 10**9
        assert seconds <= since_start + 1.5, (
            f"started {since_start:.1f} s ago, the run list says {ago!r}"
        )
    finally:
        for run_id in (first, second):
            call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
