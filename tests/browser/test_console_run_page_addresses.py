"""The run page opened from an address: a run that does not exist, a step filter in
another case."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.local.dev_server import DevServer
from tests.browser.conftest import dev_server, expect
from tests.browser.test_console import _finish, _start

MIXED = {
    "name": "addr_mixed",
    "steps": [
        {"id": "fine", "type": "noop"},
        {"id": "broken", "type": "fail", "message": "bad row"},
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(Path(tmp_path_factory.mktemp("addresses")) / "home") as dev:
        yield dev


def test_an_unknown_run_is_said_and_not_polled_as_if_offline(server: DevServer, page: Any) -> None:
    """A link to a run that does not exist (a typo, a run pruned since): the server
    answered 404 "run not found", yet the top bar said "offline · retrying" ("The last
    refresh failed: what this page shows may be out of date") and the page asked for the
    run again every 4 s for as long as it was open. The run is not coming back: the page
    says it is not found and stops asking (``getJSON`` throws the HTTP status; only no
    answer, a 5xx or a throttle is asked again)."""
    asked: list[str] = []
    page.on(
        "request", lambda r: asked.append(r.url) if "/api/console/runs/GONE_RUN" in r.url else None
    )
    page.goto(f"{server.url}/#/runs/GONE_RUN")
    expect(page.locator("#run-head .problem")).to_contain_text("not found")
    time.sleep(5)  # the error path rescheduled its read after POLL_MS * 2 = 4 s
    live = page.locator("#live")
    said = live.inner_text() if live.is_visible() else ""
    assert len(asked) == 1 and "offline" not in said, (
        f"asked {len(asked)} times in 5 s for a run the server said is not found;"
        f" the top bar says {said!r}"
    )


def test_a_step_status_in_the_address_in_lower_case_shows_in_the_controls(
    server: DevServer, page: Any
) -> None:
    """``#/runs/RUN?status=failed`` (typed, or from a link): the view took a status in
    any case, so the steps listed were the FAILED ones, but the status menu still said
    "Any status" and no chip was on: the list looked unfiltered, and a click on the
    "failed" chip filtered again instead of clearing. ``showRun`` upper-cases it, as
    ``showRuns`` does the run list's."""
    run_id = _start(server, MIXED)
    _finish(server, run_id)
    page.goto(f"{server.url}/#/runs/{run_id}?status=failed")
    expect(page.locator(".step-row")).to_have_count(1)  # filtered: broken only
    expect(page.locator("#step-status")).to_have_value("FAILED", timeout=3000)
    expect(page.locator('#run-head .chip[data-status="FAILED"]')).to_have_class("chip s-FAILED on")
