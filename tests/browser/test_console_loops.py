"""The console's iteration grid of a loop step, on a real ``podium dev`` in Chromium."""

from __future__ import annotations

from typing import Any

from podium.local.dev_server import DevServer
from tests.browser.conftest import expect
from tests.browser.test_console import _finish, _start

LOOP = {
    "name": "grid_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 30)}"},
            "concurrency": 10,
            "on_failure": "continue",
            "tolerated_failures": 30,
            "steps": [
                {
                    "id": "check",
                    "type": "fail",
                    "message": "odd one out",
                    # only every 7th iteration fails: the others skip this step
                    "depends_on": [{"step": "gate", "when": "iteration.i % 7 == 3"}],
                },
                {"id": "gate", "type": "noop"},
            ],
        }
    ],
}


def test_a_loop_step_shows_its_iterations_as_a_grid_with_a_failed_only_filter(
    dev: DevServer, page: Any
) -> None:
    run_id = _start(dev, LOOP)
    body = _finish(dev, run_id)
    assert body["run"]["status"] == "SUCCEEDED", body
    page.goto(f"{dev.url}/#/runs/{run_id}?step=each")
    page.wait_for_selector("#detail-iterations .it-cell")
    cells = page.locator("#detail-iterations .it-cell")
    assert cells.count() == 30
    assert page.locator("#detail-iterations .it-cell.s-FAILED").count() == 4  # 3, 10, 17, 24
    assert "26 succeeded · 4 failed" in page.inner_text("#detail-iterations")
    page.check("#iterations-failed-only")
    expect(page.locator("#detail-iterations .it-cell")).to_have_count(4)
    indexes = page.eval_on_selector_all(
        "#detail-iterations .it-cell", "els => els.map(e => e.dataset.index)"
    )
    assert indexes == ["3", "10", "17", "24"]
    # A cell opens the iteration's own run.
    page.click("#detail-iterations .it-cell[data-index='10']")
    page.wait_for_selector(f"text={run_id}.each.10")


BIG = "b" * 6_000  # over the 4 KiB an iteration keeps on its run item: stored apart
BIG_LOOP = {
    "name": "grid_big_values",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"rec": ["small", BIG, "cut"]},
            "steps": [{"id": "work", "type": "noop"}],
        }
    ],
}
CUT = {  # a value the view cut (loop_views.shown_value)
    "$cut": "206,001 characters of JSON, cut to the first 5,000: read whole as iteration.rec",
    "chars": 206_001,
    "preview": '{"rows":["' + "x" * 4_990,
}


def test_the_grid_says_in_words_what_the_views_markers_mean(dev: DevServer, page: Any) -> None:
    """A cell's tooltip showed values stored apart as ``$payload=…, bytes=…`` (as if loop
    params), and a cut value's 5,000-character start hid why it was cut."""
    run_id = _start(dev, BIG_LOOP)
    assert _finish(dev, run_id)["run"]["status"] == "SUCCEEDED"

    def with_a_cut_value(route: Any) -> None:
        body = route.fetch().json()
        for it in (body.get("iterations") or {}).get("iterations") or []:
            if it["index"] == 2:
                it["values"] = {"rec": CUT}
        route.fulfill(json=body)

    page.route("**/api/console/runs/*/step?*", with_a_cut_value)
    page.goto(f"{dev.url}/#/runs/{run_id}?step=each")
    page.wait_for_selector("#detail-iterations .it-cell[data-index='2']")

    small = page.get_attribute("#detail-iterations .it-cell[data-index='0']", "title") or ""
    assert "rec=small" in small
    stored = page.get_attribute("#detail-iterations .it-cell[data-index='1']", "title") or ""
    assert f"stored apart: podium runs show {run_id}.each.1" in stored, stored
    assert "$payload" not in stored and "bytes=" not in stored
    cut = page.get_attribute("#detail-iterations .it-cell[data-index='2']", "title") or ""
    assert 'rec={"rows":["xxx' in cut and "(206,001 characters, cut)" in cut, cut
    assert "$cut" not in cut and len(cut) < 300

    # The iteration's own step shows the iteration's values whole.
    page.unroute("**/api/console/runs/*/step?*")
    page.goto(f"{dev.url}/#/runs/{run_id}.each.1?step=work")
    expect(page.locator("#detail-iteration")).to_contain_text('"rec": "bbbb')
    page.click("#detail-iteration .show-all")  # the console's 5,000-character clip
    expect(page.locator("#detail-iteration")).to_contain_text(f'"rec": "{BIG}"')
