"""Local stand-ins (podium.toml): an ecs_task or batch_job played by a Python callable or
a local command, http to loopback, secrets from the environment; and the release example
run with podium run, waiting for an approval that podium callback gives from another
process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from podium import bootstrap
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.stand_ins import read_stand_ins
from podium.testing import run_workflow

ROOT = Path(__file__).resolve().parents[2]


def write(directory: Path, workflow: dict[str, Any], toml: str, module: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "podium.toml").write_text(textwrap.dedent(toml))
    if module:
        (directory / "local_tasks.py").write_text(textwrap.dedent(module))
    path = directory / "workflow.json"
    path.write_text(json.dumps(workflow))
    return path


def ecs(step_id: str = "train", **fields: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "ecs_task",
        "cluster": "ml",
        "task_definition": "arn:aws:ecs:us-east-1:123456789012:task-definition/trainer:7",
        "container": "main",
        **fields,
    }


def step(view: Any, step_id: str) -> Any:
    return next(s for s in view.steps if s.step == step_id)


def test_an_ecs_task_played_by_a_callable_and_a_command(tmp_path: Path) -> None:
    path = write(
        tmp_path / "wf1",
        {
            "name": "local_tasks",
            "params": {"day": {"type": "string", "default": "2026-12-01"}},
            "steps": [
                ecs(command=["train", "${params.day}"], environment={"DAY": "${params.day}"}),
                {
                    "id": "report",
                    "type": "batch_job",
                    "job_queue": "q",
                    "job_definition": "report-def",
                    "command": [sys.executable, "-c", "import os; print('day', os.environ['DAY'])"],
                    "environment": {"DAY": "${params.day}"},
                    "depends_on": ["train"],
                },
            ],
        },
        """
        [ecs_tasks]
        trainer = "local_tasks_wf1:train"

        [batch_jobs]
        "report-def" = {}
        """,
    )
    (tmp_path / "wf1" / "local_tasks_wf1.py").write_text(
        "def train(event):\n"
        "    assert event['environment'] == {'DAY': '2026-12-01'}\n"
        "    return {'rows': len(event['command'])}\n"
    )
    view = run_workflow(path)
    assert view.run.status is RunStatus.SUCCEEDED, [s.error for s in view.steps]
    train = step(view, "train").output
    assert train["exit_code"] == 0 and train["result"] == {"rows": 2}
    report = step(view, "report").output
    assert report["exit_code"] == 0 and "day 2026-12-01" in report["logs"]


def test_exit_codes_and_unmapped_tasks(tmp_path: Path) -> None:
    path = write(
        tmp_path / "wf2",
        {
            "name": "local_fail",
            "steps": [
                ecs("boom"),
                ecs("other", task_definition="unknown-def", depends_on=[]),
            ],
        },
        f"""
        [ecs_tasks]
        boom = {{ command = ["{sys.executable}", "-c", "import sys; sys.exit(3)"] }}
        """,
    )
    view = run_workflow(path)
    boom, other = step(view, "boom"), step(view, "other")
    assert boom.status is StepStatus.FAILED and "exited with code 3" in boom.error
    assert other.error_type == "Podium.ConfigError"
    assert "[ecs_tasks] unknown-def" in other.error


def test_http_mapped_to_a_callable_and_other_hosts_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "wf3",
        {
            "name": "local_http",
            "steps": [
                {
                    "id": "refresh",
                    "type": "http",
                    "method": "POST",
                    "url": "https://api.example.com/v1/refresh",
                    "body": {"table": "sales"},
                    "auth": {"secret": "api/token"},
                },
                {"id": "elsewhere", "type": "http", "url": "https://other.example.com/"},
            ],
        },
        """
        [http.map]
        "https://api.example.com" = "fake_api_wf3:handle"

        [secrets]
        "api/token" = "env:PODIUM_TEST_API_TOKEN"
        """,
    )
    (tmp_path / "wf3" / "fake_api_wf3.py").write_text(
        "def handle(request):\n"
        "    assert request['headers']['authorization'] == 'Bearer t0k'\n"
        "    return {'status': 202, 'body': {'refreshed': request['body']['table'],"
        " 'path': request['path']}}\n"
    )
    os.environ["PODIUM_TEST_API_TOKEN"] = "t0k"
    try:
        view = run_workflow(path)
    finally:
        del os.environ["PODIUM_TEST_API_TOKEN"]
    assert step(view, "refresh").output == {"refreshed": "sales", "path": "/v1/refresh"}
    assert step(view, "elsewhere").error_type == "Podium.HttpHostNotAllowed"


def test_bad_stand_ins_name_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "podium.toml"
    bad.write_text('[ecs_tasks]\ntrain = "not-a-ref"\n')
    with pytest.raises(ValueError, match="use 'module:function'"):
        read_stand_ins(bad)
    bad.write_text('[secrets]\ntoken = "s3cr3t"\n')
    with pytest.raises(ValueError, match="never goes in a file"):
        read_stand_ins(bad)
    assert bootstrap.local_secrets({"t": "env:X"}, {"X": "v"}) == {"t": "v"}
    assert bootstrap.local_secrets({"t": "env:X"}, {}) == {}


def test_podium_run_waits_for_an_approval_given_by_podium_callback(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PODIUM_HOME": str(home)}
    cli = [sys.executable, "-m", "podium.cli.main"]
    release = ROOT / "examples/ml_pipeline/release.yaml"
    running = subprocess.Popen(
        [*cli, "run", str(release), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = _wait_for_token(home, running)
        refused = subprocess.run(
            [*cli, "callback", token, "--success", "{}", "--by", "mallory"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 1 and "may not decide" in refused.stderr
        given = subprocess.run(
            [*cli, "callback", token, "--success", "{}", "--by", "alice", "--comment", "ok"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert given.returncode == 0, given.stderr
        out, err = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 0, err
    assert out.strip(), (out, err)
    view = json.loads(out)
    assert view["run"]["status"] == "SUCCEEDED"
    steps = {s["step"]: s for s in view["steps"]}
    assert steps["approve"]["output"] == {"approved": True, "by": "alice", "comment": "ok"}
    assert steps["deploy"]["status"] == "SUCCEEDED"
    assert steps["deploy"]["output"]["approved_by"] == "alice"  # kept with the deployment


def _wait_for_token(home: Path, running: subprocess.Popen[str]) -> str:
    """The approval's token, from the home (as podium runs show reads it)."""
    from podium.cli.local_home import Home

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert running.poll() is None, running.communicate()
        if (home / bootstrap.HOME_DB).exists():
            with Home(home) as opened:
                for run_id in opened.store.list_active_run_ids():
                    for event in opened.store.list_events(run_id):
                        if event.kind == "callback_token":
                            return str(event.detail["token"])
        time.sleep(0.2)
    raise AssertionError("the approval never published its token")


def test_validate_notes_steps_without_a_local_stand_in(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    path = write(
        tmp_path / "wf4",
        {
            "name": "notes",
            "steps": [
                ecs("mapped"),
                ecs("unmapped", task_definition="other"),
                {"id": "g", "type": "glue_job", "job_name": "j"},
            ],
        },
        '[ecs_tasks]\ntrainer = "m:f"\n',
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    assert "steps[1]: ecs_task 'other' has no local stand-in" in result.output
    assert (
        "steps[2]: glue_job 'j' has no local stand-in in podium.toml [glue_jobs]" in result.output
    )
    assert "steps[0]" not in result.output


def test_glue_jobs_and_state_machines_have_stand_ins_too(tmp_path: Path) -> None:
    """Issue #13 item 7: every external type runs on the embedded default. A Glue job is
    played by a callable that gets its rendered arguments; a state machine by a callable
    whose return value is the step's output, as an execution's output is."""
    path = write(
        tmp_path / "wf_glue",
        {
            "name": "local_glue_sfn",
            "params": {"day": {"type": "string", "default": "2026-12-01"}},
            "steps": [
                {
                    "id": "etl",
                    "type": "glue_job",
                    "job_name": "etl-daily",
                    "arguments": {"--day": "${params.day}"},
                },
                {
                    "id": "recon",
                    "type": "sfn_execution",
                    "state_machine": "arn:aws:states:us-east-1:123456789012:stateMachine:Reconcile",
                    "input": {"day": "${params.day}"},
                    "depends_on": ["etl"],
                },
                {
                    "id": "after",
                    "type": "noop",
                    "depends_on": [{"step": "recon", "when": "steps.recon.output.matched == 12"}],
                },
            ],
        },
        """
        [glue_jobs]
        etl-daily = "local_glue_wf:etl"

        [state_machines]
        Reconcile = "local_glue_wf:reconcile"
        """,
    )
    (tmp_path / "wf_glue" / "local_glue_wf.py").write_text(
        "def etl(event):\n"
        "    assert event['arguments'] == {'--day': '2026-12-01'}\n"
        "    return {'rows': 12}\n"
        "def reconcile(event):\n"
        "    return {'matched': 12, 'day': event['input']['day']}\n"
    )
    view = run_workflow(path)
    assert view.run.status is RunStatus.SUCCEEDED, [s.error for s in view.steps]
    etl = step(view, "etl").output
    assert etl["exit_code"] == 0 and etl["result"] == {"rows": 12} and "job_run_id" in etl
    assert step(view, "recon").output == {"matched": 12, "day": "2026-12-01"}
    assert step(view, "after").status is StepStatus.SUCCEEDED
