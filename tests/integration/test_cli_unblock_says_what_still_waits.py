"""``podium unblock WF`` said "unblocked WF; nothing was waiting" when nothing was
blocked and a run waited QUEUED behind a running one (strict_sequential, no failure):
it read "no run admitted" as "nothing waiting", and said "unblocked" whether or not the
queue had been blocked. It says now whether the queue was blocked (locally; the API's
answer does not say it: there, "unblocked" when a run started), the runs it started,
and the runs that still wait and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from tests.integration import test_remote_cli as remote
from tests.integration.test_cli_start_says_what_the_run_strategy_decided import (
    push_a_sleeper,
    start_on_stack,
)
from tests.integration.test_remote_cli import Deployed, on_stack

deployed = remote.deployed
user = remote.user
runner = CliRunner()

STRICT = {
    "name": "unblocked_strict",
    "run_strategy": "strict_sequential",
    "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}],
}
FAILING = {
    "name": "unblocked_failing",
    "run_strategy": "strict_sequential",
    "steps": [{"id": "boom", "type": "fail", "message": "no"}],
}


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME"):
        monkeypatch.delenv(name, raising=False)


def _one_run_queued_behind_another(
    tmp_path: Path, workflow: dict[str, Any]
) -> tuple[Path, str, str]:
    """Pushes ``workflow`` to a home in ``tmp_path`` and starts two runs of it, the
    first's steps delivered before the second starts; the second waits QUEUED. Gives
    the home and the two runs' ids."""
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(workflow)
        first = rt.start_run(workflow["name"])
        rt.pump(advance_time=False)
        second = rt.start_run(workflow["name"])
        rt.pump(advance_time=False)
        assert rt.store.get_run(second.run_id).status.value == "QUEUED"
    return home, first.run_id, second.run_id


def _unblock(home: Path, name: str, *more: str) -> Result:
    return runner.invoke(app, ["unblock", name, "--home", str(home), *more])


def test_unblock_of_a_queue_that_was_not_blocked_says_what_waits_behind_a_running_run(
    tmp_path: Path, local: None
) -> None:
    home, running, _ = _one_run_queued_behind_another(tmp_path, STRICT)
    result = _unblock(home, "unblocked_strict")
    assert result.exit_code == 0, result.output
    assert "nothing was waiting" not in result.output, result.output
    assert "unblocked_strict was not blocked" in result.output, result.output
    assert "1 run still waits" in result.output
    assert f"behind active run(s) {running}" in result.output


def test_unblock_of_a_blocked_queue_names_the_failed_run_and_what_it_started(
    tmp_path: Path, local: None
) -> None:
    home, failed, held = _one_run_queued_behind_another(tmp_path, FAILING)
    # --no-wait: the run it starts is not run here (run, it fails and blocks again).
    result = _unblock(home, "unblocked_failing", "--no-wait")
    assert result.exit_code == 0, result.output
    assert f"unblocked unblocked_failing (blocked by failed run {failed})" in result.output
    assert f"started {held}" in result.output
    again = _unblock(home, "unblocked_failing")
    assert "unblocked_failing was not blocked" in again.output, again.output
    assert "nothing was waiting" in again.output


def test_a_stacks_unblock_says_what_still_waits(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    """The same on a stack: the API's answer says whether the queue was blocked; the
    runs still queued and why the oldest waits are read."""
    push_a_sleeper(tmp_path, "unblocked_on_stack", "strict_sequential")
    running = start_on_stack(deployed, "unblocked_on_stack")
    assert on_stack("start", "unblocked_on_stack").exit_code == 0
    result = on_stack("unblock", "unblocked_on_stack")
    assert result.exit_code == 0, result.output
    assert "nothing was waiting" not in result.output and "unblocked " not in result.output
    assert "unblocked_on_stack was not blocked" in result.output, result.output
    assert "1 run still waits" in result.output, result.output
    assert f"behind active run(s) {running}" in result.output, result.output
