"""The run list reaches every run its filters match, not only the newest 200."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect

TINY = {"name": "paged_hourly", "steps": [{"id": "a", "type": "noop"}]}
RUNS = 205


def _drawn(page: Any) -> tuple[int, str | None]:
    shown = page.locator("tr.run-row")
    return shown.count(), shown.first.get_attribute("data-run")


def test_the_oldest_matching_run_can_be_reached_in_the_run_list(dev: DevServer, page: Any) -> None:
    """The run list showed 100 rows, "Load more" showed 200 (the view's ``MAX_RUNS``),
    and past that it said "200 of 205 shown · narrow the filters to see the others"; but
    no filter narrows to older runs (``since`` only cuts old ones off, and there was no
    "before" and no next page: ``list_console_runs`` took no cursor), so the 5 oldest
    runs of an hourly workflow that all match "status: succeeded" were unreachable from
    the list. The view now gives a ``next`` token, and "Older runs" under the list
    (``#runs-more``) leads on, page by page, to the oldest matching run."""
    assert call(dev, "/workflows", TINY)[0] in (200, 201)
    ids = [call(dev, "/workflows/paged_hourly/runs", {})[1]["run_id"] for _ in range(RUNS)]
    oldest = ids[0]
    assert wait_until(
        lambda: (
            call(dev, "/api/console/runs?workflow=paged_hourly&status=SUCCEEDED&limit=1")[1][
                "total"
            ]
            == RUNS
        ),
        60,
    )

    page.goto(f"{dev.url}/#/?workflow=paged_hourly&status=SUCCEEDED")
    expect(page.locator("#runs-total")).to_have_text(f"{RUNS} runs")
    row = page.locator(f'tr.run-row[data-run="{oldest}"]')
    for _ in range(5):  # a "Load more", a "Next page" ... whatever leads on
        if row.count():
            break
        more = page.locator("#runs-more button")
        if not more.count():
            break
        before = _drawn(page)
        more.first.click()
        # The next answer drawn: more rows, or other ones (a page further on).
        assert wait_until(lambda b=before: _drawn(page) != b, 10), before
    expect(row).to_have_count(1)
    # The page is in the address: a reload shows it again.
    assert "from=" in page.url
    page.reload()
    expect(row).to_have_count(1)
    page.click("#runs-newest")
    expect(page.locator(f'tr.run-row[data-run="{ids[-1]}"]')).to_have_count(1)
