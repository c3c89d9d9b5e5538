"""The run list opened at a workflow the home lacks (``#/?workflow=gone``)."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import expect
from tests.browser.test_console import _finish, _start

TINY = {"name": "flt_tiny", "steps": [{"id": "a", "type": "noop"}]}


def test_the_workflow_filter_showed_all_workflows_and_listed_none(
    dev: DevServer, page: Any
) -> None:
    """A bookmarked ``#/?workflow=gone`` (a workflow renamed, or another home's) said
    "workflow 'gone' not found", but the workflow select showed "All workflows" (as if
    unfiltered) and held no workflow to choose: the answer was a 404, so the select was
    never filled. It is filled from ``api/console/workflows``, with the missing workflow
    chosen and marked as not found."""
    _finish(dev, _start(dev, TINY))
    page.goto(f"{dev.url}/#/?workflow=gone")
    expect(page.locator("#runs-body .problem")).to_contain_text("not found")
    expect(page.locator('#f-workflow option[value="flt_tiny"]')).to_have_count(1)
    expect(page.locator("#f-workflow")).to_have_value("gone")
    expect(page.locator('#f-workflow option[value="gone"]')).to_contain_text("not found")
    page.select_option("#f-workflow", "flt_tiny")  # and the select leads on
    expect(page.locator("tr.run-row")).to_have_count(1)
