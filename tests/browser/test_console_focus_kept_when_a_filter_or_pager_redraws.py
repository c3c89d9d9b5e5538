"""A keyboard user's focus when a filter or a pager of the run list or the run page
redraws the page: it stays on the control used."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.console_support import fanout
from tests.browser.test_console import _finish, _start

TINY = {"name": "kb_tiny", "steps": [{"id": "a", "type": "noop"}]}


def _focused(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))


def test_the_status_filter_kept_the_focus_when_changed_with_the_keyboard(
    dev: DevServer, page: Any
) -> None:
    """A keyboard user on the run list's status select pressed Down to go from "Any
    status" to "queued": the list was filtered, but ``route()`` rebuilt ``#main`` (the
    select with it) and the focus fell to <body>, so a second Down did nothing and Tab
    started again at the top bar (``holdFocus`` kept it across a live refresh only)."""
    _finish(dev, _start(dev, TINY))
    page.goto(f"{dev.url}/#/")
    page.wait_for_selector("tr.run-row")
    page.focus("#f-status")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#f-status")).to_have_value("QUEUED")
    assert "status=QUEUED" in page.url
    expect(page.locator("#runs-empty")).to_have_count(1)  # the new page's answer is drawn
    assert _focused(page) == "f-status", "the focus left the status filter for <body>"


def test_a_status_chip_kept_the_focus(dev: DevServer, page: Any) -> None:
    """Enter on the run list's "succeeded" chip filtered the list and dropped the focus
    to <body>; the chip (drawn again with the new answer) has it now."""
    _finish(dev, _start(dev, TINY))
    page.goto(f"{dev.url}/#/")
    page.wait_for_selector('#run-counts button[data-status="SUCCEEDED"]')
    page.focus('#run-counts button[data-status="SUCCEEDED"]')
    page.keyboard.press("Enter")
    expect(page.locator('#run-counts button[data-status="SUCCEEDED"].on')).to_have_count(1)
    assert page.evaluate("() => document.activeElement.dataset.status") == "SUCCEEDED"


def test_older_runs_by_keyboard_kept_the_focus_in_the_pager(dev: DevServer, page: Any) -> None:
    """Paging back through a long run list with the keyboard: Enter on "Older runs"
    showed the next page but the focus fell to <body>, so each further page took a Tab
    through the toolbar and 100 run links again. The pager keeps it (here "Newest runs":
    the last page has no "Older runs")."""
    assert call(dev, "/workflows", TINY)[0] in (200, 201)
    for _ in range(105):
        call(dev, "/workflows/kb_tiny/runs", {})
    assert wait_until(lambda: call(dev, "/api/console/runs?limit=1")[1]["total"] == 105, 30)
    page.goto(f"{dev.url}/#/")
    page.wait_for_selector("#runs-older")
    page.focus("#runs-older")
    page.keyboard.press("Enter")
    expect(page.locator("#runs-newest")).to_have_count(1)  # the next page is drawn
    assert _focused(page) in ("runs-older", "runs-newest"), (
        f"the focus left the pager for {_focused(page)}"
    )


def test_the_step_pager_kept_the_focus_on_a_big_run(dev: DevServer, page: Any) -> None:
    """A 300-step run's step list is paged 50 at a time: Enter on "Next" showed steps
    51-100 but the focus fell to <body>, so reaching step 251 by keyboard took a walk
    through the graph and the filters after every page. The focus stays on Next."""
    run_id = _start(dev, fanout(300))
    _finish(dev, run_id, 60)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    expect(page.locator("#page-info")).to_have_text("1\u201350 of 302")
    page.focus("#page-next")
    page.keyboard.press("Enter")
    expect(page.locator("#page-info")).to_have_text("51\u2013100 of 302")
    assert _focused(page) == "page-next", f"the focus left the pager for {_focused(page)}"
    page.keyboard.press("Enter")  # and on, by the keyboard alone
    expect(page.locator("#page-info")).to_have_text("101\u2013150 of 302")
