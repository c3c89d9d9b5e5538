"""Local backfill and the local actions read ./podium.toml's functions only: an external
step (batch_job, ecs_task) or an http step that `podium dev` and `podium run` play with
the file's stand-ins, hosts and secrets failed there with Podium.ConfigError."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

WORKFLOW = {
    "name": "nightly_report",
    "steps": [
        {
            "id": "report",
            "type": "batch_job",
            "job_queue": "q",
            "job_definition": "report-def",
            "command": [sys.executable, "-c", "print('report done')"],
        }
    ],
    "triggers": [{"id": "daily", "cron": "0 6 * * *"}],
}
TOML = '[batch_jobs]\n"report-def" = {}\n'


def test_local_backfills_and_restarts_play_external_steps_with_the_stand_ins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "podium.toml").write_text(TOML)
    (tmp_path / "wf").mkdir()  # no podium.toml beside the file: the first run fails
    wf = tmp_path / "wf" / "workflow.json"
    wf.write_text(json.dumps(WORKFLOW))
    monkeypatch.chdir(tmp_path)  # ./podium.toml, as a user runs the commands
    home = str(tmp_path / "home")
    runner = CliRunner()
    ran = runner.invoke(app, ["run", str(wf), "--home", home])
    assert ran.exit_code == 1 and "no local stand-in" in ran.output, ran.output
    listed = runner.invoke(app, ["runs", "list", "nightly_report", "--home", home, "--json"])
    failed = json.loads(listed.stdout)["runs"][0]["run_id"]
    backfill = ["backfill", "nightly_report", "--from", "2026-03-01", "--to", "2026-03-02"]
    filled = runner.invoke(app, [*backfill, "--home", home, "--json"])
    assert filled.exit_code == 0, filled.output
    assert json.loads(filled.stdout)["outcome"] == {"SUCCEEDED": 2}
    # A local action that runs steps (a restart) plays them the same way.
    restart = ["runs", "restart", failed, "--home", home, "--reason", "fixed", "--json"]
    restarted = runner.invoke(app, restart)
    assert restarted.exit_code == 0, restarted.output
    assert '"final_status": "SUCCEEDED"' in restarted.stdout, restarted.output
