"""The web console on a real ``podium dev``, in headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, dev_server, shot
from tests.browser.console_support import DIAMOND, LIVE, fanout

TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED", "TIMED_OUT", "DISCARDED"}


def _finish(dev: DevServer, run_id: str, timeout_s: float = 30) -> dict[str, Any]:
    assert wait_until(
        lambda: call(dev, f"/runs/{run_id}")[1]["run"]["status"] in TERMINAL, timeout_s
    ), call(dev, f"/runs/{run_id}")
    body: dict[str, Any] = call(dev, f"/runs/{run_id}")[1]
    return body


def _start(dev: DevServer, definition: dict[str, Any]) -> str:
    status, pushed = call(dev, "/workflows", definition)
    assert status in (200, 201), pushed
    status, run = call(dev, f"/workflows/{definition['name']}/runs", {"params": {}})
    assert status == 202, run
    return str(run["run_id"])


def _fill(page: Any) -> str:
    return str(page.eval_on_selector("", "el => getComputedStyle(el).fill"))


def test_the_api_is_the_deployed_api(dev: DevServer) -> None:
    run_id = _start(dev, DIAMOND)
    body = _finish(dev, run_id)
    assert body["run"]["status"] == "FAILED"
    steps = {s["step"]: s for s in body["steps"]}
    assert steps["load_warehouse"]["status"] == "SUCCEEDED"
    assert steps["load_warehouse"]["attempts"] == 2
    assert steps["validate"]["status"] == "FAILED"
    assert call(dev, "/workflows/nope")[0] == 404
    status, listed = call(dev, "/workflows/diamond_etl/runs")
    assert status == 200 and [r["run_id"] for r in listed["runs"]] == [run_id]
    # the console's views
    status, runs = call(dev, "/api/console/runs?status=FAILED")
    assert status == 200 and [r["run_id"] for r in runs["runs"]] == [run_id]
    assert call(dev, "/api/console/runs?status=SUCCEEDED")[1]["runs"] == []
    assert call(dev, "/api/console/runs?status=bogus")[0] == 400
    assert call(dev, "/api/console/runs/NOPE")[0] == 404
    status, detail = call(dev, f"/api/console/runs/{run_id}/step?name=load_warehouse")
    assert status == 200
    assert [a["status"] for a in detail["attempts"]] == ["RETRIED", "SUCCEEDED"]
    kinds = [s["kind"] for s in detail["step"]["segments"]]
    assert kinds.count("running") == 2 and "backoff" in kinds


def test_run_list_run_page_dag_gantt_and_step_detail(tmp_path: Path, page: Any) -> None:
    with dev_server(tmp_path / "home") as dev:
        _diamond_pages(dev, page)


def _diamond_pages(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, DIAMOND)

    # The run page while the run is live: it refreshes itself until the run ends.
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector("g.node")
    _finish(dev, run_id)
    page.wait_for_selector("#live.off", state="attached", timeout=10_000)
    page.wait_for_selector('.page-head .badge[data-status="FAILED"]')

    # The run list shows the run, with its status, and filters by status.
    page.goto(f"{dev.url}/#/")
    row = page.wait_for_selector(f'tr.run-row[data-run="{run_id}"]')
    assert row.get_attribute("data-status") == "FAILED"
    assert "diamond_etl" in row.inner_text()
    shot(page, "run-list")
    page.select_option("#f-status", "SUCCEEDED")
    page.wait_for_selector("td.empty")
    page.select_option("#f-status", "FAILED")
    page.wait_for_selector(f'tr.run-row[data-run="{run_id}"]')
    page.select_option("#f-since", "1h")
    page.wait_for_selector(f'tr.run-row[data-run="{run_id}"]')
    page.select_option("#f-workflow", "diamond_etl")
    page.wait_for_selector(f'tr.run-row[data-run="{run_id}"]')
    assert "workflow=diamond_etl" in page.url and "since=1h" in page.url

    # Open the run page from the list.
    page.click(f'tr.run-row[data-run="{run_id}"] a')
    page.wait_for_selector("g.node")
    nodes = {
        n.get_attribute("data-node"): n.get_attribute("data-status")
        for n in page.query_selector_all("g.node")
    }
    assert nodes == {
        "extract": "SUCCEEDED",
        "load_warehouse": "SUCCEEDED",
        "validate": "FAILED",
        "publish": "NOT_STARTED",
    } or nodes["publish"] in ("SKIPPED", "STOPPED"), nodes
    # Coloured by status: a succeeded and a failed node are drawn in different colours.
    ok = page.eval_on_selector(
        'g.node[data-node="extract"] rect.box', "el => getComputedStyle(el).stroke"
    )
    bad = page.eval_on_selector(
        'g.node[data-node="validate"] rect.box', "el => getComputedStyle(el).stroke"
    )
    assert ok != bad and ok.startswith("rgb") and bad.startswith("rgb")
    assert page.locator("path.edge").count() == 4

    # The Gantt: one running bar per attempt, and the retry's backoff.
    rows = page.locator(".step-row")
    assert rows.count() == 4
    attempts = sum(
        int(t) for t in page.locator(".step-row .g-att").all_inner_texts() if t.strip().isdigit()
    )
    assert attempts == 4  # extract 1, load_warehouse 2, validate 1
    assert page.locator(".step-row .seg-running").count() == attempts
    retried = page.locator('.step-row[data-step="load_warehouse"]')
    assert retried.locator(".seg-running").count() == 2
    assert retried.locator(".seg-backoff").count() == 1
    widths = page.eval_on_selector_all(
        ".seg-running", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert all(w >= 2 for w in widths)
    shot(page, "run-page")

    # Clicking a step shows its detail: output, attempts and error.
    page.click('.step-row[data-step="load_warehouse"]')
    page.wait_for_selector("#detail-title:has-text('load_warehouse')")
    assert '"loaded": 1200' in page.inner_text("#detail-output")
    assert page.locator("#detail-attempts tbody tr:not(.err)").count() == 2
    assert "warehouse busy" in page.inner_text("#detail-attempts")
    page.click('g.node[data-node="validate"]')
    page.wait_for_selector("#detail-title:has-text('validate')")
    assert "bad row 42" in page.inner_text("#detail-error")
    # The traceback of the failed attempt, with the user's frame in it.
    assert "console_support.py" in page.inner_text("#detail-traceback")
    assert "console_support:broken" in page.inner_text("#detail-params")
    assert "sales_2026-03-01" in page.inner_text("#detail-step-params")
    shot(page, "step-detail")
    if getattr(dev.runtime, "capture_output", False):  # a runtime that keeps step output
        page.click('.step-row[data-step="extract"]')
        page.wait_for_selector("#detail-logs:has-text('extracted 1200 rows')")
        shot(page, "step-logs")


def test_the_run_page_refreshes_itself_until_the_run_ends(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, LIVE)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    # While the slow step runs, the page says it is live and draws the step as running
    # (the server answers while a step runs: requests do not wait for the worker).
    page.wait_for_selector('g.node[data-node="slow"][data-status="RUNNING"]', timeout=5_000)
    assert page.locator("#live.on").count() == 1
    assert page.locator('.step-row[data-step="slow"] .seg-running').count() == 1
    shot(page, "run-page-live")
    # Without a reload, the page follows the run to its end, then stops polling.
    page.wait_for_selector('g.node[data-node="last"][data-status="SUCCEEDED"]', timeout=10_000)
    page.wait_for_selector("#live.off", state="attached", timeout=5_000)
    assert page.locator('.page-head .badge[data-status="SUCCEEDED"]').count() == 1


@pytest.mark.slow
def test_a_2000_step_run_page_stays_small(dev: DevServer, page: Any) -> None:
    definition = fanout(2000)
    run_id = _start(dev, definition)
    _finish(dev, run_id, timeout_s=120)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector(".step-row")
    page.wait_for_selector("g.node")
    # Look-alike branches are one group node; the list is one page of steps.
    assert page.locator("g.node").count() == 3
    group = page.locator("g.node.group")
    assert group.count() == 1 and "2,000" in (group.text_content() or "")
    assert page.locator(".step-row").count() == 50
    assert "of 2,002" in page.inner_text("#page-info")
    assert page.evaluate("document.getElementsByTagName('*').length") < 2500
    shot(page, "run-page-2000")
    # Paging moves through the steps; a click on the group lists its members only.
    page.click("#page-next")
    page.wait_for_selector("#page-info:has-text('100 of 2,002')")
    assert page.inner_text("#page-info").startswith("51")
    group.click()
    page.wait_for_selector("#page-info:has-text('of 2,000')")
    assert page.locator(".step-row").count() == 50


def test_conditional_edges_are_dashed_and_selecting_a_step_keeps_the_page(
    dev: DevServer, page: Any
) -> None:
    flow = {
        "name": "branchy",
        "params": {"go": {"type": "bool", "default": False}},
        "steps": [
            {"id": "check", "type": "noop"},
            {
                "id": "deploy",
                "type": "noop",
                "depends_on": [{"step": "check", "when": "params.go"}],
            },
            {"id": "report", "type": "noop", "depends_on": ["check"]},
        ],
    }
    run_id = _start(dev, flow)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}")
    page.wait_for_selector("g.node")
    assert page.locator("path.edge.cond").count() == 1
    assert page.locator("path.edge").count() == 2
    page.wait_for_selector('g.node[data-node="deploy"][data-status="SKIPPED"]')
    # Opening a step's detail does not redraw the page (the graph's elements stay).
    page.evaluate("document.querySelector('svg.dag-svg').dataset.mark = 'kept'")
    page.click('.step-row[data-step="deploy"]')
    page.wait_for_selector("#detail-title:has-text('deploy')")
    assert page.get_attribute("svg.dag-svg", "data-mark") == "kept"
    assert page.locator(".step-row.selected").get_attribute("data-step") == "deploy"
    assert page.locator("#detail-reason").count() == 1  # why it was skipped
    page.click("#detail .close")
    page.wait_for_selector("#detail", state="hidden")
    assert page.get_attribute("svg.dag-svg", "data-mark") == "kept"
