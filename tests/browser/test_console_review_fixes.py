"""The web console, found by a review on a real ``podium dev`` in Chromium: keyboard
focus kept across the live refresh, the iteration grid's filter and page in the
address, the run list's controls showing the address's filters, a page past the last
step, a subworkflow step's link to its run, graph names inside their boxes, Tab kept in
the action dialog, rows and nodes exposed as controls. Each test failed before its fix
(its docstring says what was wrong and what is right)."""

from __future__ import annotations

import re
import time
from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.console_support import DIAMOND
from tests.browser.test_console import _finish, _start
from tests.browser.test_console_loops import LOOP

SLOW = {
    "name": "review_slow",
    "steps": [
        {"id": "first", "type": "noop"},
        {"id": "wait", "type": "sleep", "seconds": 600, "depends_on": ["first"]},
    ],
}


def _step_status(dev: DevServer, run_id: str, step: str) -> str | None:
    steps = call(dev, f"/runs/{run_id}")[1]["steps"]
    return next((s["status"] for s in steps if s["step"] == step), None)


def _polls_after(page: Any, run_id: str) -> list[float]:
    """Times of the run page's refreshes (its view of ``run_id``), as they are sent."""
    polls: list[float] = []
    page.on(
        "request",
        lambda r: (
            polls.append(time.monotonic()) if f"/api/console/runs/{run_id}?" in r.url else None
        ),
    )
    return polls


def _wait_polls(page: Any, polls: list[float], since: float, n: int = 2) -> None:
    # page.evaluate keeps Playwright's event loop turning while waiting.
    assert wait_until(lambda: (page.evaluate("1"), sum(t > since for t in polls) >= n)[1], 15)
    page.wait_for_timeout(300)  # the last answer drawn


def test_keyboard_focus_survives_the_live_refresh(dev: DevServer, page: Any) -> None:
    """A live run page redraws its head and its step rows every 2 s with new elements:
    the focused Pause button (or step row) is thrown away and the focus falls back to
    <body>, so a keyboard user cannot tab to an action of a running run and press it.
    Right: the element that had the focus (the same action, the same row) keeps it."""
    run_id = _start(dev, SLOW)
    assert wait_until(lambda: _step_status(dev, run_id, "wait") == "RUNNING")
    polls = _polls_after(page, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector('#run-actions button[data-action="pause"]')

    page.focus('#run-actions button[data-action="pause"]')
    _wait_polls(page, polls, time.monotonic())
    focused = page.evaluate(
        "(el => el.dataset.action || el.dataset.step || el.tagName)(document.activeElement)"
    )
    assert focused == "pause", f"the focus moved to {focused} after a refresh"

    page.focus('.step-row[data-step="wait"]')
    _wait_polls(page, polls, time.monotonic())
    focused = page.evaluate(
        "(el => el.dataset.action || el.dataset.step || el.tagName)(document.activeElement)"
    )
    assert focused == "wait", f"the focus moved to {focused} after a refresh"
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_the_failed_only_filter_survives_the_back_button(dev: DevServer, page: Any) -> None:
    """Triage of a loop: tick "failed only", open a failed iteration, press Back. The
    grid comes back showing every iteration with the box unticked: the filter (and the
    grid's page) live only in memory, not in the address, so Back, a reload or a shared
    link lose them. Right: they are part of the address like the step list's filters."""
    run_id = _start(dev, LOOP)
    assert _finish(dev, run_id)["run"]["status"] == "SUCCEEDED"
    page.goto(f"{dev.url}/#/runs/{run_id}?step=each")
    page.wait_for_selector("#detail-iterations .it-cell")
    page.check("#iterations-failed-only")
    expect(page.locator("#detail-iterations .it-cell")).to_have_count(4)

    page.click("#detail-iterations .it-cell[data-index='10']")
    page.wait_for_selector(f"text={run_id}.each.10")
    page.go_back()
    page.wait_for_selector("#detail-iterations .it-cell")
    page.wait_for_timeout(500)
    assert page.is_checked("#iterations-failed-only"), "the filter was dropped"
    expect(page.locator("#detail-iterations .it-cell")).to_have_count(4)


def test_the_run_lists_controls_show_the_filters_of_the_address(dev: DevServer, page: Any) -> None:
    """``#/?since=2h`` (as ``podium runs list --since 2h``) and ``#/?status=failed`` (any
    case, as the API and the CLI take it) filter the list, yet the controls say "Any
    time" and "Any status" and no status chip is on: the page looks unfiltered while runs
    are hidden. Right: each control shows the filter in force (as the workflow select
    already does for a workflow the home does not hold)."""
    failed = _start(dev, DIAMOND)
    _finish(dev, failed)
    slow = _start(dev, SLOW)
    assert wait_until(lambda: _step_status(dev, slow, "wait") == "RUNNING")

    page.goto(f"{dev.url}/#/?status=failed")
    page.wait_for_selector(f'tr.run-row[data-run="{failed}"]')
    assert page.locator(f'tr.run-row[data-run="{slow}"]').count() == 0  # filtered...
    expect(page.locator("#f-status")).to_have_value("FAILED")  # ...and said so
    expect(page.locator("#run-counts .chip.s-FAILED.on")).to_have_count(1)

    page.goto(f"{dev.url}/#/?since=2h")
    page.wait_for_selector("tr.run-row")
    shown = page.eval_on_selector("#f-since", "el => el.selectedOptions[0].textContent")
    assert shown != "Any time", "the list is filtered on the last 2 hours"
    call(dev, f"/runs/{slow}/actions", {"action": "stop"})


def test_a_page_past_the_last_step_is_not_shown_as_empty(dev: DevServer, page: Any) -> None:
    """An address with an offset past the steps (a link to page 3 of a filtered list
    that has since shrunk, as a live run's steps leave a status) shows "101-4 of 4" and
    "No steps match." with no filter at all, and "Prev" steps back one empty page at
    a time. Right: the last page that has steps is shown (here steps 1-4 of 4)."""
    run_id = _start(dev, DIAMOND)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}?offset=100")
    page.wait_for_selector("#page-info")
    page.wait_for_timeout(300)
    info = page.inner_text("#page-info")
    assert not info.startswith("101"), f"pager says {info!r}"
    expect(page.locator(".step-row")).to_have_count(4)


SUB_CHILD = {"name": "review_sub_child", "steps": [{"id": "x", "type": "noop"}]}
SUB_PARENT = {
    "name": "review_sub_parent",
    "steps": [{"id": "call", "type": "subworkflow", "workflow": "review_sub_child"}],
}


def test_a_subworkflow_step_links_its_child_run(dev: DevServer, page: Any) -> None:
    """The child run's page links its parent ("subworkflow run of step call in run
    …"), but the parent's page gives no way down: the subworkflow step's detail shows
    an empty output and no link to the run it started (``RUN.call.0``), so the called
    workflow's steps cannot be reached from the run that called it. Right: the step's
    detail links its child run(s), as a loop step's grid links its iterations."""
    assert call(dev, "/workflows", SUB_CHILD)[0] in (200, 201)
    run_id = _start(dev, SUB_PARENT)
    assert _finish(dev, run_id)["run"]["status"] == "SUCCEEDED"
    child = f"{run_id}.call.0"
    assert call(dev, f"/runs/{child}")[0] == 200  # the child run exists

    page.goto(f"{dev.url}/#/runs/{run_id}?step=call")
    page.wait_for_selector("#detail-attempts")
    assert page.locator(f'a[href="#/runs/{child}"]').count() >= 1, page.inner_text("#detail")


LONG_NAMES = {
    "name": "review_long_names",
    "steps": [
        {"id": "LOAD_CUSTOMER_DIMENSION_SNAPSHOT", "type": "noop"},
        {
            "id": "WRITE_MONTHLY_REVENUE_SUMMARY",
            "type": "noop",
            "depends_on": ["LOAD_CUSTOMER_DIMENSION_SNAPSHOT"],
        },
    ],
}


def test_graph_node_names_stay_inside_their_boxes(dev: DevServer, page: Any) -> None:
    """A node's box is sized from a guess of 7.6 px per character, but names are drawn in
    12.5 px bold: an upper-case step id such as LOAD_CUSTOMER_DIMENSION_SNAPSHOT (32
    characters, shown whole) runs ~30 px past its box, over the edges and the next
    node. Right: the name fits its box (measured, or cut with an ellipsis)."""
    run_id = _start(dev, LONG_NAMES)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector("g.node text.name")
    spill = page.eval_on_selector_all(
        "g.node",
        """els => els.map((g) => {
          const t = g.querySelector('text.name'), box = g.querySelector('rect.box');
          const right = Number(t.getAttribute('x')) + t.getComputedTextLength();
          return [g.dataset.node, Math.round(right - Number(box.getAttribute('width')))];
        })""",
    )
    assert all(over <= 0 for _, over in spill), f"px past the box: {spill}"


def test_tab_stays_inside_the_action_dialog(dev: DevServer, page: Any) -> None:
    """The action dialog is ``aria-modal`` but Tab walks out of it, past Confirm, to the
    page behind the overlay (the brand link, the run's own action buttons: Enter on one
    opens a second dialog over the first). Right: Tab and Shift+Tab cycle through the
    dialog's own controls while it is open."""
    run_id = _start(dev, DIAMOND)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.click('#run-actions button[data-action="restart"]')
    page.wait_for_selector("#action-dialog")
    inside = "!!document.activeElement.closest('#action-dialog')"
    where = []
    for key in ["Tab"] * 5 + ["Shift+Tab"] * 5:
        page.keyboard.press(key)
        where.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        assert page.evaluate(inside), f"{key} left the dialog: {where}"
    page.keyboard.press("Escape")


def test_steps_and_graph_nodes_are_exposed_as_controls(dev: DevServer, page: Any) -> None:
    """A step row and a graph node open the step on click (and on Enter), but assistive
    technology cannot tell: the row is a bare <div tabindex=0> with no role, and the
    nodes sit inside an <svg role="img">, whose children are presentational (the graph
    is read as one picture "extract lambda · succeeded load_warehouse …"). Right: each
    is exposed as a control (a link or a button named after its step)."""
    run_id = _start(dev, DIAMOND)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector('g.node[data-node="validate"]')
    page.wait_for_selector('.step-row[data-step="validate"]')

    def controls(scope: str) -> int:
        name = re.compile(r"\bvalidate\b")
        where = page.locator(scope)
        return sum(where.get_by_role(role, name=name).count() for role in ("button", "link"))

    assert controls("#steps-card") >= 1, page.locator("#steps-card").aria_snapshot()
    assert controls("#graph-card") >= 1, page.locator("#graph-card").aria_snapshot()
