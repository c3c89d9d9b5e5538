"""A local stand-in's callable (adapters/jobs/local.py) that ended with ``sys.exit``:
its exit status was not Python's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.core.engine.status import StepStatus
from podium.testing import run_workflow, step_of


def _run(tmp_path: Path, body: str) -> Any:
    module = f"stand_in_exit_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(body)
    (tmp_path / "podium.toml").write_text(f'[ecs_tasks]\ncli = "{module}:main"\n')
    step = {"id": "cli", "type": "ecs_task", "cluster": "ml", "task_definition": "cli"}
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps({"name": "stand_in_exit", "steps": [{**step, "container": "c"}]}))
    return step_of(run_workflow(path), "cli")


def test_a_bare_sys_exit_succeeded(tmp_path: Path) -> None:
    """``sys.exit()`` is exit status 0, as a container's Python process ending so exits 0
    on ECS; the stand-in read ``SystemExit.code`` None as exit code 1 and the step FAILED
    with 'exited with code 1'. It succeeded, with exit_code 0."""
    cli = _run(tmp_path, "import sys\ndef main(event):\n    print('loaded')\n    sys.exit()\n")
    assert cli.status is StepStatus.SUCCEEDED, (cli.status, cli.error)
    assert cli.output["exit_code"] == 0


def test_a_sys_exit_message_was_kept_in_the_error(tmp_path: Path) -> None:
    """``sys.exit("no input file for 2026-12-01")`` exits 1 printing its message, which
    says why the job failed; the step's error was 'exited with code 1' alone. It carried
    the message, as an exception's error does."""
    cli = _run(
        tmp_path, "import sys\ndef main(event):\n    sys.exit('no input file for 2026-12-01')\n"
    )
    assert cli.status is StepStatus.FAILED, cli.status
    assert cli.error == "exited with code 1: no input file for 2026-12-01", cli.error


def test_an_int_sys_exit_kept_its_code(tmp_path: Path) -> None:
    """``sys.exit(3)`` stayed exit code 3."""
    cli = _run(tmp_path, "import sys\ndef main(event):\n    sys.exit(3)\n")
    assert (cli.status, cli.error) == (StepStatus.FAILED, "exited with code 3"), cli.error
