"""A stack's ``POST /workflows/{name}/unblock`` answered only the runs it admitted, so
``podium unblock`` on a stack could not say whether the queue had been blocked (it said
"unblocked" whenever a run started, "no run started" otherwise), and the local
``--json`` answer had no ``workflow``. The API's answer now carries ``blocked_by`` (the
failed run that blocked the queue, or null), and the local answer is the API's, field
for field."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from tests.integration import test_remote_cli as remote
from tests.integration.test_cli_start_says_what_the_run_strategy_decided import (
    start_on_stack,
)
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user
runner = CliRunner()


def _push_failing(tmp_path: Path, name: str) -> None:
    text = f"name: {name}\nrun_strategy: strict_sequential\nsteps:\n"
    text += "  - {id: boom, type: fail, message: no}\n"
    assert on_stack("push", str(write(tmp_path, f"{name}.yaml", text))).exit_code == 0


def test_a_stacks_unblock_names_the_failed_run_that_blocked_the_queue(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    _push_failing(tmp_path, "blocked_on_stack")
    failed = start_on_stack(deployed, "blocked_on_stack")
    held = start_on_stack(deployed, "blocked_on_stack")
    answer = json.loads(on_stack("unblock", "blocked_on_stack", "--json").stdout)
    assert answer == {"workflow": "blocked_on_stack", "blocked_by": failed, "admitted": [held]}
    again = on_stack("unblock", "blocked_on_stack")
    assert again.exit_code == 0, again.output
    assert "blocked_on_stack was not blocked" in again.output, again.output


def test_the_local_unblock_answers_as_the_api_does(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(
            {
                "name": "blocked_here",
                "run_strategy": "strict_sequential",
                "steps": [{"id": "boom", "type": "fail", "message": "no"}],
            }
        )
        failed = rt.start_run("blocked_here")
        rt.pump(advance_time=False)
        held = rt.start_run("blocked_here")
        rt.pump(advance_time=False)
    result = runner.invoke(app, ["unblock", "blocked_here", "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "workflow": "blocked_here",
        "blocked_by": failed.run_id,
        "admitted": [held.run_id],
    }
