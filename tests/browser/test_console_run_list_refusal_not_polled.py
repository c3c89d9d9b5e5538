"""The run list's refused filters (a 400, a 404) are said once, not polled."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import expect
from tests.browser.test_console import _finish, _start

TINY = {"name": "rf_tiny", "steps": [{"id": "a", "type": "noop"}]}


def test_a_refused_filter_was_asked_for_again_every_10_s(dev: DevServer, page: Any) -> None:
    """``#/?tag=oops`` (no ``=``) is refused with a 400 that no retry can change, yet the
    run list asked the same question every 10 s for as long as the tab was open (each a
    "Failed to load resource" in the browser's log), where the run page stops at a 4xx
    (``mayPass``). The refusal is said once and not polled."""
    _finish(dev, _start(dev, TINY))
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/console/runs?" in r.url else None)
    page.goto(f"{dev.url}/#/?tag=oops")
    expect(page.locator("#runs-body .problem")).to_contain_text("query.tag")
    page.wait_for_timeout(11_000)  # past IDLE_POLL_MS
    assert len(asked) == 1, f"the refused list was asked for {len(asked)} times"


def test_a_refused_page_token_offered_no_way_back(dev: DevServer, page: Any) -> None:
    """``#/?from=cut`` (a page link cut short) was refused at ``query.next`` and polled,
    with no way back to the list but editing the address. It offers "Newest runs"."""
    _finish(dev, _start(dev, TINY))
    page.goto(f"{dev.url}/#/?from=cut")
    expect(page.locator("#runs-body .problem")).to_contain_text("query.next")
    page.click("#runs-newest")
    expect(page.locator("tr.run-row")).to_have_count(1)
    assert "from=" not in page.url
