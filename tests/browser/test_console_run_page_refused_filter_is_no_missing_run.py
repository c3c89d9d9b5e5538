"""A run page's address with a step filter (or offset) that does not fit the run."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import expect
from tests.browser.test_console import _finish, _start

TWO = {
    "name": "bad_node",
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
}


def test_an_unknown_graph_node_in_the_address_said_the_run_was_gone(
    dev: DevServer, page: Any
) -> None:
    """``#/runs/ID?node=old_step`` (a link kept from another version of the workflow, or
    mistyped) is a 404 at ``query.node``; the page took every 404 for a missing run: it
    said the run "may have been pruned", the step names twice, and offered "Show every
    run" but no way to the run itself. Only a 404 at no query parameter is the run's: this
    one is said as a refusal, with a link to the run without the filter."""
    run_id = _start(dev, TWO)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}?node=old_step")
    expect(page.locator("#run-head")).to_contain_text("old_step")
    head = page.inner_text("#run-head")
    assert "pruned" not in head, f"the run is said to be gone: {head!r}"
    assert head.count("one of: a, b") == 1, head
    page.click(f'#run-head a[href="#/runs/{run_id}"]')
    expect(page.locator("#page-info")).to_have_text("1\u20132 of 2")


def test_a_bad_offset_in_the_address_was_said_to_be_nan(dev: DevServer, page: Any) -> None:
    """``#/runs/ID?offset=abc`` was sent as ``offset=NaN`` (``Number("abc")``), and the
    refusal said "got 'NaN'", which nobody typed. What was typed is sent, and said."""
    run_id = _start(dev, TWO)
    _finish(dev, run_id)
    page.goto(f"{dev.url}/#/runs/{run_id}?offset=abc")
    expect(page.locator("#run-head .problem")).to_contain_text("query.offset")
    head = page.inner_text("#run-head")
    assert "NaN" not in head and "abc" in head, head
