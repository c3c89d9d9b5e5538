"""A step's detail in the console: what its view left out is said (older attempts'
tracebacks, older events, iterations past a page's read), and a read that failed for a
moment is tried again on an ended run's page (which polls no more)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.local.dev_server import DevServer
from podium.service import loop_views
from tests.browser.conftest import call, dev_server, expect
from tests.browser.test_console import _finish, _start


def emoji_fail(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("\U0001f600" * 5000)  # clipped: 2 KiB message, 16 KiB traceback


RETRIED = {
    "name": "detail_retried",
    "steps": [
        {
            "id": "boom",
            "type": "lambda",
            "function": f"{__name__}:emoji_fail",
            "retries": 99,
            "retry_delay_seconds": 0,
        }
    ],
}
TINY = {"name": "detail_tiny", "steps": [{"id": "only", "type": "noop"}]}
LOOP = {
    "name": "detail_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 5)}"},
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    with dev_server(Path(tmp_path_factory.mktemp("detail")) / "home") as dev:
        yield dev


def test_tracebacks_and_events_left_out_of_a_steps_detail_are_said(
    server: DevServer, page: Any
) -> None:
    """A step retried 99 times with long errors: its detail view left out the older
    attempts' tracebacks (over 2 MB: ``tracebacks_omitted``) and older events (over
    1 MB: ``events_omitted``), as docs/operations.md says, but the console said neither:
    59 attempts showed no traceback, as if they had none, and the Events list silently
    started at the 21st. The detail says how many were left out, and where to read
    them."""
    run_id = _start(server, RETRIED)
    _finish(server, run_id, 60)
    status, view = call(server, f"/api/console/runs/{run_id}/step?name=boom")
    assert status == 200
    tracebacks, events = view.get("tracebacks_omitted", 0), view.get("events_omitted", 0)
    assert tracebacks > 0 and events > 0, (tracebacks, events)  # the view leaves some out

    page.goto(f"{server.url}/#/runs/{run_id}?step=boom")
    expect(page.locator("#detail-attempts")).to_be_visible()
    lines = page.inner_text("#detail").splitlines()
    left_out = re.compile(r"omit|left out|not shown|older", re.IGNORECASE)

    def said(count: int, what: str) -> bool:
        return any(
            re.search(rf"\b{count}\b", line) and what in line.lower() and left_out.search(line)
            for line in lines
        )

    assert said(tracebacks, "traceback") and said(events, "event"), (
        f"the detail does not say {tracebacks} tracebacks and {events} events were left out"
    )
    expect(page.locator("#detail-tracebacks-omitted")).to_contain_text(
        f"podium runs logs {run_id} boom --attempt N"
    )


def test_a_failed_read_of_an_ended_runs_step_is_tried_again(server: DevServer, page: Any) -> None:
    """The open step of an ended run is read once (its page polls no more): a read that
    failed for a moment (a 502 from a cold gateway, no answer) left "Could not load" in
    the detail until the page was reloaded. It is tried once more on the next tick."""
    run_id = _start(server, TINY)
    _finish(server, run_id)
    failed: list[str] = []

    def once_a_502(route: Any) -> None:
        if failed:
            route.continue_()
            return
        failed.append(route.request.url)
        route.fulfill(status=502, json={"message": "Bad Gateway"})

    page.route("**/api/console/runs/*/step?*", once_a_502)
    page.goto(f"{server.url}/#/runs/{run_id}?step=only")
    expect(page.locator("#detail .problem")).to_contain_text("Bad Gateway")
    expect(page.locator("#detail-title")).to_have_text("only", timeout=6000)
    assert len(failed) == 1


def test_no_failed_iteration_among_a_pages_read_says_which_were_read(
    server: DevServer, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of failed iterations reads up to 5,000 iterations (``SCAN_LIMIT``): one
    that found none among them said "No failed iteration." over its "Next page (from
    #5000)" button, as if the loop had none. It says which it read."""
    monkeypatch.setattr(loop_views, "SCAN_LIMIT", 3)  # a page reads #0-#2 of 5
    run_id = _start(server, LOOP)
    _finish(server, run_id)
    page.goto(f"{server.url}/#/runs/{run_id}?step=each&failed=1")
    expect(page.locator("#iterations-more")).to_be_visible()
    expect(page.locator("#detail-iterations")).to_contain_text(
        "No failed iteration among #0\u2013#2"
    )
