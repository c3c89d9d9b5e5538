"""The run page's step detail and DAG follow a run to its end, in headless Chromium: the
poll that saw the run end refreshed neither the open step (it went on showing RUNNING,
with a Stop the API then refused) nor a plain node's text ("lambda · running" on a node
coloured as succeeded)."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.test_console import _start

# The open step is the last one: the poll that sees it end sees the run end.
LAST_IS_SLOW = {
    "name": "ends_with_slow",
    "steps": [
        {"id": "first", "type": "noop"},
        {
            "id": "slow",
            "type": "lambda",
            "function": "tests.browser.console_support:slow",
            "depends_on": ["first"],
        },
    ],
}


def test_the_open_step_and_its_node_follow_the_run_to_its_end(dev: DevServer, page: Any) -> None:
    run_id = _start(dev, LAST_IS_SLOW)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=slow")
    page.wait_for_selector('#detail .d-status .badge[data-status="RUNNING"]', timeout=5_000)
    page.wait_for_selector('g.node[data-node="slow"][data-status="RUNNING"]')
    assert page.text_content('g.node[data-node="slow"] text.sub') == "lambda · running"
    page.wait_for_selector("#live.off", state="attached", timeout=10_000)
    # No poll follows the last one: what it showed is what stays.
    page.wait_for_selector('#detail .d-status .badge[data-status="SUCCEEDED"]', timeout=3_000)
    # No Stop on an ended step: a restart from it is what it takes.
    assert page.query_selector('#step-actions button[data-action="stop"]') is None
    assert page.query_selector('#step-actions button[data-action="restart"]') is not None
    assert "Succeeded" in page.inner_text("#detail-attempts")
    node = page.query_selector('g.node[data-node="slow"]')
    assert node is not None and node.get_attribute("data-status") == "SUCCEEDED"
    assert page.text_content('g.node[data-node="slow"] text.sub') == "lambda · succeeded"
