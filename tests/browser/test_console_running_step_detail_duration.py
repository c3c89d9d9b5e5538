"""The open step's detail of a step that is running counts how long it has run, to
the server's clock (a real ``podium dev``)."""

from __future__ import annotations

import datetime
import re
import time
from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _start

NAP = {"name": "running_detail", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}


def _seconds(text: str) -> float:
    """A running duration as fmtDur says it, in seconds ("3.1 s…", "812 ms…", "1 m 4 s…")."""
    found = re.search(r"(?:(\d+) m )?(\d+(?:\.\d+)?) (ms|s)…", text)
    assert found, f"no running duration in {text!r}"
    minutes, value, unit = found.groups()
    return int(minutes or 0) * 60 + float(value) / (1000 if unit == "ms" else 1)


def test_a_running_steps_detail_says_how_long_it_has_run(dev: DevServer, page: Any) -> None:
    """The step's row said "3.1 s…" (counted to the server's now) for a running step,
    but its open detail said "1 attempt · —" and its attempt "Ran —", for as long as the
    step ran (a two-hour job read "—" throughout). The detail's head and the running
    attempt's Ran cell now count the running time as the row does, to the server's
    clock (here the browser's is an hour ahead)."""
    run_id = _start(dev, NAP)
    try:
        assert wait_until(
            lambda: any(s["status"] == "RUNNING" for s in call(dev, f"/runs/{run_id}")[1]["steps"])
        )
        page.clock.set_system_time(datetime.datetime.fromtimestamp(time.time() + 3600))
        page.goto(f"{dev.url}/#/runs/{run_id}?step=nap")
        row = page.locator('.step-row[data-step="nap"] .g-dur')
        expect(row).to_contain_text("…")  # the row counts it
        head = page.locator("#detail .d-status")
        expect(head).to_contain_text("1 attempt")
        expect(head).to_contain_text("…")
        ran = page.locator("#detail-attempts tbody tr").first.locator("td").nth(3)
        expect(ran).to_contain_text("…")
        started = call(dev, f"/runs/{run_id}")[1]["steps"][0]["started_at"]
        since = time.time() - started / 1000
        for shown in (head.inner_text(), ran.inner_text()):
            assert _seconds(shown) <= since + 3, f"ran {since:.1f} s, the detail says {shown!r}"
    finally:
        call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
