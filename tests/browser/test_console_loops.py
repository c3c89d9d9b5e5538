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
