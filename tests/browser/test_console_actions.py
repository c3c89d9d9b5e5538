"""The console's action buttons on a real ``podium dev``, in headless Chromium: only the
actions the matrix allows are shown, each asks for a confirmation and a reason, and the
run's action log says who did what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.local.dev_server import DevServer, wait_until
from tests.browser.conftest import call, dev_server, shot

SLOW = {
    "name": "slow_console",
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 600},
        {"id": "after", "type": "noop", "depends_on": ["wait"]},
    ],
}
HELD = {
    "name": "held_console",
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
}


def _status(dev: DevServer, run_id: str) -> str:
    return str(call(dev, f"/runs/{run_id}")[1]["run"]["status"])


def _buttons(page: Any, where: str) -> list[str]:
    return [b.get_attribute("data-action") for b in page.query_selector_all(f"{where} button.act")]


def _confirm(page: Any, reason: str) -> None:
    page.wait_for_selector("#action-dialog")
    page.fill("#action-reason", reason)
    page.click("#action-confirm")


def test_run_actions_from_the_console(tmp_path: Path, page: Any) -> None:
    with dev_server(tmp_path / "home") as dev:
        call(dev, "/workflows", SLOW)
        run_id = call(dev, "/workflows/slow_console/runs", {})[1]["run_id"]
        page.goto(f"{dev.url}/#/runs/{run_id}")
        page.wait_for_selector('#run-actions button[data-action="pause"]')
        assert sorted(_buttons(page, "#run-actions")) == ["kill", "pause", "stop"]

        page.click('#run-actions button[data-action="pause"]')
        _confirm(page, "look at the data first")
        assert wait_until(lambda: _status(dev, run_id) == "PAUSED")
        page.wait_for_selector('#run-actions button[data-action="resume"]')
        log = page.inner_text("#action-log")
        assert "pause by local:" in log and "look at the data first" in log

        # Cancel asks nothing of the API.
        page.click('#run-actions button[data-action="stop"]')
        page.wait_for_selector("#action-dialog")
        page.click("#action-cancel")
        assert page.query_selector("#action-dialog") is None and _status(dev, run_id) == "PAUSED"

        page.click('#run-actions button[data-action="stop"]')
        _confirm(page, "not needed today")
        assert wait_until(lambda: _status(dev, run_id) == "STOPPED")
        page.wait_for_selector('#run-actions button[data-action="restart"]')
        assert _buttons(page, "#run-actions") == ["restart"]
        shot(page, "console-actions")

        page.click('#run-actions button[data-action="restart"]')
        page.wait_for_selector("#action-from")
        page.select_option("#action-from", "beginning")
        _confirm(page, "try again")
        page.wait_for_url(f"**/#/runs/{run_id}-r1")
        assert call(dev, f"/runs/{run_id}-r1")[1]["run"]["restart_of"] == run_id
        call(dev, f"/runs/{run_id}-r1/actions", {"action": "stop"})


def test_a_step_held_at_a_breakpoint_is_resumed_from_the_console(tmp_path: Path, page: Any) -> None:
    with dev_server(tmp_path / "home") as dev:
        call(dev, "/workflows", HELD)
        assert (
            call(dev, "/workflows/held_console/breakpoints", {"action": "set", "step": "b"})[0]
            == 200
        )
        run_id = call(dev, "/workflows/held_console/runs", {})[1]["run_id"]
        assert wait_until(
            lambda: (
                {s["step"]: s["status"] for s in call(dev, f"/runs/{run_id}")[1]["steps"]}.get("b")
                == "PAUSED"
            )
        )
        page.goto(f"{dev.url}/#/runs/{run_id}?step=b")
        page.wait_for_selector('#step-actions button[data-action="resume"]')
        assert sorted(_buttons(page, "#step-actions")) == ["resume", "skip", "stop"]
        page.click('#step-actions button[data-action="resume"]')
        _confirm(page, "checked the input")
        assert wait_until(lambda: _status(dev, run_id) == "SUCCEEDED")
