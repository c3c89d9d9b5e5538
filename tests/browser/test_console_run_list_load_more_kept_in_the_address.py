"""The run list's "Load more" (rows 101-200 of a page) is part of the address."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect

TINY = {"name": "lm_tiny", "steps": [{"id": "a", "type": "noop"}]}


def test_back_from_a_run_opened_after_load_more_showed_it_again(dev: DevServer, page: Any) -> None:
    """Clicking "Load more", opening the 150th run and pressing Back showed 100 rows
    again: the run just looked at (and the user's place) was gone, and a reload or a
    shared link lost it too. The rows shown are in the address (``&rows=200``), as the
    page (``from``) and the filters are."""
    assert call(dev, "/workflows", TINY)[0] in (200, 201)
    for _ in range(160):
        call(dev, "/workflows/lm_tiny/runs", {})
    query = "workflow=lm_tiny&status=SUCCEEDED&limit=1"
    assert wait_until(lambda: call(dev, f"/api/console/runs?{query}")[1]["total"] == 160, 60)
    page.goto(f"{dev.url}/#/?workflow=lm_tiny")
    page.wait_for_selector("#runs-load-more")
    page.click("#runs-load-more")
    rows = page.locator("tr.run-row")
    expect(rows).to_have_count(160)
    assert "rows=200" in page.url
    target = rows.nth(150).get_attribute("data-run")
    page.click(f'tr.run-row[data-run="{target}"] a')
    page.wait_for_selector("#run-head h1")
    page.go_back()
    page.wait_for_selector("tr.run-row")
    expect(page.locator(f'tr.run-row[data-run="{target}"]')).to_have_count(1)
    page.reload()
    expect(page.locator("tr.run-row")).to_have_count(160)
