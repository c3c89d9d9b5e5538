"""Related runs and what an operator may do, on a real ``podium dev`` in Chromium: a loop
iteration's run page offered Restart (refused, 409), named no parent and linked its
crumb to ``wf/step`` (a list the API refuses); a restarted run offered Restart again
(refused) instead of linking its restart; a step waiting for a callback showed no
token; a run list that left older runs out said "No runs match"."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.identity import child_run_id
from podium.local.dev_server import DevServer
from podium.service import console_views
from tests.browser.conftest import call, expect
from tests.browser.test_console import _finish, _start

LOOP = {
    "name": "loopy",
    "steps": [
        {
            "id": "per",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 3)}"},
            "steps": [
                {"id": "gate", "type": "noop"},
                {
                    "id": "work",
                    "type": "fail",
                    "message": "iteration 1 broke",
                    "depends_on": [{"step": "gate", "when": "iteration.i == 1"}],
                },
            ],
        }
    ],
}


def _actions(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#run-actions button.act", "els => els.map(e => e.dataset.action)"
    )


def test_related_runs_are_links_and_restart_is_offered_where_it_works(
    dev: DevServer, page: Any
) -> None:
    top = _start(dev, LOOP)
    assert _finish(dev, top)["run"]["status"] == "FAILED"
    child = child_run_id(top, "per", 1)

    page.goto(f"{dev.url}/#/runs/{child}")
    page.wait_for_selector("#related-parent")
    assert page.inner_text("#related-parent") == f"iteration 1 of per in run {top}"
    assert _actions(page) == []  # an iteration is restarted from its top run
    crumbs = page.eval_on_selector_all(".crumbs a", "els => els.map(e => e.getAttribute('href'))")
    assert crumbs == ["#/", "#/?workflow=loopy", f"#/runs/{top}"]

    page.click("#related-parent a")
    page.wait_for_selector('#run-actions button[data-action="restart"]')
    assert page.query_selector("#related-parent") is None and _actions(page) == ["restart"]
    status, done = call(dev, f"/runs/{top}/actions", {"action": "restart"})
    assert status == 200, done
    new = done["new_run"]
    _finish(dev, new)

    page.reload()  # an ended run's page polls no more
    page.wait_for_selector("#restarted-as a")
    assert _actions(page) == []  # a second restart is refused (AlreadyRestarted)
    assert page.inner_text("#restarted-as").startswith(f"restarted as {new}")
    page.click("#restarted-as a")
    page.wait_for_selector("#related-restart-of a")
    assert page.inner_text("#related-restart-of") == f"restart of {top}"
    assert _actions(page) == ["restart"]


def test_a_step_waiting_for_an_approval_shows_its_token(dev: DevServer, page: Any) -> None:
    gated = {
        "name": "gated",
        "steps": [
            {"id": "ok", "type": "approval", "message": "Ship it?", "approvers": ["alice"]},
        ],
    }
    run_id = _start(dev, gated)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=ok")
    page.wait_for_selector("#detail-callback-token")
    steps = call(dev, f"/runs/{run_id}")[1]["steps"]
    token = steps[0]["output"]["callback_token"]
    assert page.inner_text("#detail-callback-token") == token
    assert page.inner_text("#detail-callback-message") == "Ship it?"
    assert page.inner_text("#detail-callback-approvers") == "approvers: alice"
    call(dev, f"/runs/{run_id}/actions", {"action": "stop"})


def test_the_run_list_says_when_it_left_older_runs_out(
    dev: DevServer, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 2)
    monkeypatch.setattr(console_views, "FILTERED_SCAN", 2)  # a filter reads no further
    for _ in range(3):
        _finish(dev, _start(dev, {"name": "often", "steps": [{"id": "a", "type": "noop"}]}))
    page.goto(f"{dev.url}/#/?status=FAILED")
    page.wait_for_selector("#runs-truncated:not([hidden])")
    assert "older runs of often are left out" in page.inner_text("#runs-truncated")
    page.goto(f"{dev.url}/#/?workflow=often&since=1h")
    page.wait_for_selector("tr.run-row")
    assert page.is_visible("#runs-truncated")


def test_the_run_list_loads_more_rows_on_request(dev: DevServer, page: Any) -> None:
    """The list showed its first 100 rows and no way to the others (the view takes 200)."""
    for _ in range(2):
        _finish(dev, _start(dev, {"name": "twice", "steps": [{"id": "a", "type": "noop"}]}))
    asked: list[str] = []

    def more_than_shown(route: Any) -> None:  # as if 150 runs matched, all listable here
        asked.append(route.request.url)
        body = route.fetch().json()
        route.fulfill(json={**body, "total": 150, "listable": 150})

    page.route("**/api/console/runs?*", more_than_shown)
    page.goto(f"{dev.url}/#/")
    page.wait_for_selector("#runs-load-more")
    assert "2 of 150 shown" in page.inner_text("#runs-more") and "limit=100" in asked[-1]
    page.click("#runs-load-more")
    expect(page.locator("#runs-more")).to_contain_text("narrow the filters")
    expect(page.locator("#runs-load-more")).to_have_count(0)
    assert "limit=200" in asked[-1] and "rows=200" in page.url
