"""The console's run list filters by tags, in headless Chromium on a real ``podium dev``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser.conftest import call, dev_server, expect

TAGGED = {
    "name": "tagged_etl",
    "tags": {"team": "sales"},
    "steps": [{"id": "a", "type": "noop"}],
}


def _start(dev: Any, tags: dict[str, str]) -> str:
    status, run = call(dev, "/workflows/tagged_etl/runs", {"tags": tags})
    assert status == 202, run
    return str(run["run_id"])


def _rows(page: Any) -> set[str]:
    return {str(el.get_attribute("data-run")) for el in page.query_selector_all("tr.run-row")}


def test_the_run_list_filters_by_tag(tmp_path: Path, page: Any) -> None:
    with dev_server(tmp_path / "home") as dev:
        status, pushed = call(dev, "/workflows", TAGGED)
        assert status in (200, 201), pushed
        ops = _start(dev, {"team": "ops", "ticket": "T-1"})
        sales = _start(dev, {"env": "prod"})

        page.goto(f"{dev.url}/#/")
        page.wait_for_selector(f'tr.run-row[data-run="{ops}"]')
        page.wait_for_selector(f'tr.run-row[data-run="{sales}"]')
        # Each row shows its tags as chips.
        row = page.query_selector(f'tr.run-row[data-run="{ops}"]')
        assert row is not None and "ticket=T-1" in row.inner_text()

        # The tag box filters (Enter commits it) and keeps the filter in the URL.
        page.fill("#f-tag", "team=ops")
        page.press("#f-tag", "Enter")
        expect(page.locator("tr.run-row")).to_have_count(1)
        assert _rows(page) == {ops}
        assert "tag=team%3Dops" in page.url

        # A tag chip filters by its tag.
        page.goto(f"{dev.url}/#/")
        page.wait_for_selector(f'tr.run-row[data-run="{sales}"]')
        page.click(f'tr.run-row[data-run="{sales}"] .chip.tag[data-tag="env=prod"]')
        expect(page.locator("tr.run-row")).to_have_count(1)
        assert _rows(page) == {sales}
        assert page.input_value("#f-tag") == "env=prod"

        # The run page shows the run's tags; each links to the runs carrying it.
        page.goto(f"{dev.url}/#/runs/{ops}")
        page.click('.page-head .chip.tag[data-tag="ticket=T-1"]')
        expect(page.locator("tr.run-row")).to_have_count(1)
        assert _rows(page) == {ops}

        # A bad filter says what is wrong instead of showing nothing.
        page.goto(f"{dev.url}/#/?tag=oops")
        page.wait_for_selector("text=use key=value")
