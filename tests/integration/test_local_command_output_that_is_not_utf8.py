"""A local command (a stand-in of an external step type, adapters/jobs/local.py) whose
output held bytes that are not UTF-8."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from podium.core.engine.status import StepStatus
from podium.testing import run_workflow, step_of


def test_a_command_printing_bytes_that_are_not_utf8_ran_once(tmp_path: Path) -> None:
    """A command that printed a byte that is not UTF-8 (a binary progress bar, a Latin-1
    file name) raised UnicodeDecodeError out of the attempt's start after it had run
    (its pipes were decoded strictly): the redelivered claim ran the command again,
    eleven times, and the step ended FAILED as 'PlatformError: the ecs_task work of
    attempt 11 was not found'. It ran once, its exit code decided, and its output was
    kept with the byte replaced."""
    counter = tmp_path / "runs.txt"
    script = (
        "import sys; open(sys.argv[1], 'a').write('x');"
        " sys.stdout.buffer.write(b'caf\\xe9 done\\n')"
    )
    (tmp_path / "podium.toml").write_text("[ecs_tasks]\nlatin = {}\n")
    step = {
        "id": "latin",
        "type": "ecs_task",
        "cluster": "ml",
        "task_definition": "latin",
        "container": "main",
        "command": [sys.executable, "-c", script, str(counter)],
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps({"name": "latin_output", "steps": [step]}))
    view = run_workflow(path)
    latin = step_of(view, "latin")
    runs = len(counter.read_text()) if counter.exists() else 0
    assert (latin.status, latin.attempt, runs) == (StepStatus.SUCCEEDED, 1, 1), (
        latin.status,
        latin.attempt,
        runs,
        (latin.error or "")[:160],
    )
    assert "caf\ufffd done" in latin.output["logs"]
