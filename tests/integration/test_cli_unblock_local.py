"""`podium unblock WF --home H`: a strict_sequential queue in a local home could only be
unblocked through `podium dev` (unblock had no --home, and without a target it went to
the stack named Podium)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

STRICT = {
    "name": "strict_etl",
    "run_strategy": "strict_sequential",
    "params": {"fail": {"type": "bool", "default": False}},
    "steps": [
        {"id": "a", "type": "noop"},
        {
            "id": "boom",
            "type": "fail",
            "message": "bad feed",
            "depends_on": [{"step": "a", "when": "params.fail"}],
        },
    ],
}


def test_unblock_in_a_local_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=str(home)) as rt:
        rt.push(STRICT)
        failed = rt.start_run("strict_etl", {"fail": True}).run_id
        rt.pump()
        assert rt.describe(failed).run.status is RunStatus.FAILED
        waiting = rt.start_run("strict_etl").run_id
        assert rt.describe(waiting).run.status is RunStatus.QUEUED
    result = CliRunner().invoke(app, ["unblock", "strict_etl", "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "workflow": "strict_etl",
        "blocked_by": failed,
        "admitted": [waiting],
    }
    with LocalRuntime(store="sqlite", home=str(home)) as rt:
        assert rt.describe(waiting).run.status is not RunStatus.QUEUED
    unknown = CliRunner().invoke(app, ["unblock", "nope", "--home", str(home)])
    assert unknown.exit_code == 1 and "nope" in unknown.output
    both = CliRunner().invoke(app, ["unblock", "strict_etl", "--home", str(home), "--stack", "S"])
    assert both.exit_code == 2
