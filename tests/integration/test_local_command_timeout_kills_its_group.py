"""A local stand-in command (podium.toml ``{}`` / ``{command = [...]}``) that outlived
the step's ``timeout`` was killed only as the one process ``subprocess.run`` started: the
work it started (a shell's child, ``sh -c "python train.py; ..."``, a wrapper script's
python) ran on after the step ended TIMED_OUT.

docs/workflow-language.md (Local stand-ins): "A command gets the step's environment and
is killed at the step's timeout". LocalJobs._run used subprocess.run(..., timeout=...),
which kills the direct child only; its children were orphaned and kept running (and
writing their outputs) after the run ended, beside any retry.

Expected: the command runs in its own process group (start_new_session=True) and the
whole group is killed at the timeout, so nothing of the step's work outlives it; what it
printed before is still kept in the step's logs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from podium.core.engine.status import StepStatus
from podium.testing import run_workflow


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has ended


def test_the_work_a_command_started_does_not_outlive_the_steps_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    worker = (
        "import os, time, pathlib;"
        f" pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()));"
        " time.sleep(60)"
    )
    # "; true" keeps the shell from exec'ing python: python is the shell's child, as in
    # any wrapper script or pipeline.
    command = ["sh", "-c", f'"{sys.executable}" -c "{worker}"; true']
    directory = tmp_path / "wf"
    directory.mkdir()
    (directory / "podium.toml").write_text('[batch_jobs]\n"report-def" = {}\n')
    path = directory / "workflow.json"
    path.write_text(
        json.dumps(
            {
                "name": "local_timeout",
                "steps": [
                    {
                        "id": "report",
                        "type": "batch_job",
                        "job_queue": "q",
                        "job_definition": "report-def",
                        "timeout": "2s",
                        "command": command,
                    }
                ],
            }
        )
    )
    view = run_workflow(path)
    (step,) = view.steps
    assert step.status is StepStatus.TIMED_OUT, (step.status, step.error)
    pid = int(pid_file.read_text())
    try:
        deadline = time.monotonic() + 2
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        # Was: alive, sleeping on for its 60 s after the step ended TIMED_OUT.
        assert not _alive(pid), f"the command's child {pid} outlived the step's timeout"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_what_a_timed_out_command_printed_is_kept(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from podium.adapters.jobs.local import LocalJobs
    from podium.core.engine.external import Phase
    from podium.core.ports import JobRequest

    spec = SimpleNamespace(id="report", job_definition="report-def", timeout=1)
    jobs = LocalJobs("batch_job", {"report-def": {}}, resolve=None)
    command = ["sh", "-c", "echo started; echo warming up >&2; sleep 30; true"]
    began = time.monotonic()
    outcome = jobs.start(JobRequest("batch_job", "run/report/1", spec, {"command": command}))
    assert time.monotonic() - began < 10
    assert outcome.phase is Phase.FAILED
    assert outcome.error is not None and outcome.error.type == "Podium.Timeout"
    assert outcome.output is not None
    assert "started" in outcome.output["logs"] and "warming up" in outcome.output["logs"]
