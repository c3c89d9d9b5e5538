"""The runs of a backfill (or of a schedule) are told apart by their logical date in the
console."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect

NIGHTLY = {
    "name": "nightly_dates",
    "triggers": [{"id": "nightly", "cron": "0 2 * * *"}],
    "steps": [{"id": "load", "type": "noop"}],
}


def test_backfill_runs_show_the_date_they_are_for(dev: DevServer, page: Any) -> None:
    """A backfill of 2026-01-01..03 starts three runs in the same second, and the run
    list showed three identical rows (status, workflow, run id, trigger "backfill", the
    same start time); the run page said no more. Which run loaded which day, the one
    thing a data engineer looks for after a backfill (a failed day to rerun), was
    nowhere: ``views.run_view`` left ``logical_date`` out, so neither ``GET /runs/{id}``
    nor the console's views carried it, and app.js showed none. Each run's logical date
    is now on its row of the run list and in its run page's head."""
    assert call(dev, "/workflows", NIGHTLY)[0] in (200, 201)
    status, planned = call(
        dev, "/workflows/nightly_dates/backfill", {"from": "2026-01-01", "to": "2026-01-03"}
    )
    assert status == 202, planned
    by_date = {e["logical_date"]: e["run_id"] for e in planned["entries"]}
    assert sorted(by_date) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    for day, run_id in by_date.items():  # the API's view of a run says it too
        assert wait_until(lambda r=run_id: call(dev, f"/runs/{r}")[0] == 200, 10)
        assert call(dev, f"/runs/{run_id}")[1]["run"]["logical_date"] == day
    assert wait_until(
        lambda: all(
            call(dev, f"/runs/{r}")[1].get("run", {}).get("status") == "SUCCEEDED"
            for r in by_date.values()
        ),
        20,
    )

    page.goto(f"{dev.url}/#/?workflow=nightly_dates")
    for day, run_id in by_date.items():
        expect(page.locator(f'tr.run-row[data-run="{run_id}"]')).to_contain_text(day)

    run_id = by_date["2026-01-02"]
    page.goto(f"{dev.url}/#/runs/{run_id}")
    expect(page.locator('#run-head .badge[data-status="SUCCEEDED"]')).to_have_count(1)
    expect(page.locator("#run-logical-date")).to_have_text("2026-01-02")
