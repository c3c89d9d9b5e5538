"""Restarting from a step, and from a step inside a loop iteration (``--from STEP``,
``--from LOOP/INDEX/STEP``), from the console's step detail."""

from __future__ import annotations

from typing import Any

from podium.core.engine.identity import child_run_id
from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish, _start

ETL = {
    "name": "restart_etl",
    "steps": [
        {"id": "extract", "type": "noop"},
        {"id": "transform", "type": "noop", "depends_on": ["extract"]},
        {"id": "load", "type": "fail", "message": "warehouse refused", "depends_on": ["transform"]},
    ],
}
LOOP = {
    "name": "restart_days",
    "steps": [
        {
            "id": "per_day",
            "type": "foreach",
            "over": {"i": [0, 1, 2]},
            "steps": [
                {"id": "fetch", "type": "noop"},
                {
                    "id": "load",
                    "type": "fail",
                    "message": "day 1 broke",
                    "depends_on": [{"step": "fetch", "when": "iteration.i == 1"}],
                },
            ],
        }
    ],
}


def _restart_from_the_step_page(page: Any, url: str) -> None:
    page.goto(url)
    button = page.locator('#step-actions button[data-action="restart"]')
    expect(button).to_have_count(1)
    button.click()
    page.fill("#action-reason", "fixed the feed")
    page.click("#action-confirm")


def test_an_ended_runs_step_offers_a_restart_from_it(dev: DevServer, page: Any) -> None:
    """The API restarts a run from a step (``{"action": "restart", "from":
    "transform"}``: that step and everything below it run again, even what succeeded),
    the runbook's usual move after fixing a transformation; the console's restart dialog
    offered only "from incomplete" and "from the beginning", and the step detail of an
    ended run offered no action at all, so a data engineer had to leave the console for
    the CLI. The step detail of an ended, restartable run now offers Restart
    (``data-action="restart"``), which restarts the run from that step (the new run's
    ``restart_from`` is the step)."""
    run_id = _start(dev, ETL)
    assert _finish(dev, run_id)["run"]["status"] == "FAILED"
    _restart_from_the_step_page(page, f"{dev.url}/#/runs/{run_id}?step=transform")
    page.wait_for_url(f"**/#/runs/{run_id}-r1*")
    new = call(dev, f"/runs/{run_id}-r1")[1]["run"]
    assert new["restart_of"] == run_id and new["restart_from"] == "transform", new


def test_a_step_of_an_ended_iteration_offers_a_restart_of_its_top_run(
    dev: DevServer, page: Any
) -> None:
    """An iteration's run is never restarted on its own; the API (and the docs'
    runbook) restart its top run from a path into it, ``per_day/1/load``, and the
    console accordingly offered no Restart on the iteration's page; but it offered no
    way to do what the refusal's hint says either (the top run's dialog takes no path),
    so the failed day could be rerun from its failed step only with the CLI. The failed
    step's detail on the iteration's page now offers Restart, which restarts the top
    run from ``per_day/1/load``."""
    top = _start(dev, LOOP)
    assert _finish(dev, top)["run"]["status"] == "FAILED"
    iteration = child_run_id(top, "per_day", 1)
    _restart_from_the_step_page(page, f"{dev.url}/#/runs/{iteration}?step=load")
    assert wait_until(lambda: call(dev, f"/runs/{top}-r1")[0] == 200, 10)
    new = call(dev, f"/runs/{top}-r1")[1]["run"]
    assert new["restart_from"] == "per_day/1/load", new
    page.wait_for_url(f"**/#/runs/{top}-r1*")  # the console goes to the new run


def test_a_step_of_a_run_still_running_offers_no_restart(dev: DevServer, page: Any) -> None:
    """A run that goes on is not restarted: its steps offer their step actions only."""
    run_id = _start(
        dev, {"name": "restart_live", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]}
    )
    page.goto(f"{dev.url}/#/runs/{run_id}?step=nap")
    expect(page.locator('#step-actions button[data-action="stop"]')).to_have_count(1)
    expect(page.locator('#step-actions button[data-action="restart"]')).to_have_count(0)
    assert call(dev, f"/api/console/runs/{run_id}/step?name=nap")[1]["restart"] is None
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})
