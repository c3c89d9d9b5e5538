"""The home's payloads/ could not be written (a file in its place; likewise a directory
made by another user, or a full disk): each attempt's big output failed to be stored
after the step's function ran, the OSError went up untranslated, the attempt was taken
for a lost worker and retried on the platform budget, so `podium run` called the
function 11 times (its side effects too), printed 11 tracebacks and exited leaving the
run RUNNING."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.payloads import FilePayloads
from podium.adapters.sqlite.db import HomeError
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from tests.integration.home_processes_support import ROOT, env_for, podium_command

HERE = "tests.integration.test_home_payloads_unwritable_stops_the_run_in_a_line"


def big_output(event: dict[str, Any]) -> dict[str, Any]:
    """Counts its calls (a line per call in a file), then returns about 20 KB: an
    output the home keeps as a file under payloads/."""
    with Path(event["payload"]["calls"]).open("a") as f:
        f.write(f"{event['attempt']}\n")
    return {"rows": ["x" * 100] * 200}


def _workflow(tmp_path: Path, calls: Path) -> Path:
    wf = tmp_path / "w.yaml"
    wf.write_text(
        "name: unstorable\nsteps:\n"
        f"  - {{id: a, type: lambda, function: '{HERE}:big_output',"
        f" payload: {{calls: '{calls}'}}}}\n"
        "  - {id: b, type: noop, depends_on: [a]}\n"
    )
    return wf


def _calls(calls: Path) -> list[str]:
    return calls.read_text().split() if calls.exists() else []


def test_a_payload_that_cannot_be_written_says_where_and_what_to_do(tmp_path: Path) -> None:
    """FilePayloads.put let the OSError of a file in payloads/'s place go up as it was,
    not as the home's error (said in a line by the CLI, naming the path and the fix)."""
    root = tmp_path / "payloads"
    root.write_text("not a directory")
    with pytest.raises(HomeError) as raised:
        FilePayloads(root).put("run/a/1/output.json", b"{}")
    message = str(raised.value)
    assert "\n" not in message
    assert f"move {root} away" in message, message


def test_the_local_runtime_stops_once_and_the_run_resumes_once_fixed(tmp_path: Path) -> None:
    """The embedded runtime ran the step's function again and again; it stops at the
    first output it cannot store, saying why, with the run left for the next process on
    the home once payloads/ is fixed."""
    home, calls = tmp_path / "home", tmp_path / "calls"
    home.mkdir()
    (home / "payloads").write_text("not a directory")
    wf = _workflow(tmp_path, calls)
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(wf)
        run = rt.start_run("unstorable")
        with pytest.raises(HomeError, match="payloads"):
            rt.pump(run_id=run.run_id)
        assert rt.describe(run.run_id).run.status is RunStatus.RUNNING
    assert _calls(calls) == ["1"]
    (home / "payloads").unlink()
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.pump(run_id=run.run_id)
        view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.SUCCEEDED, [(s.step, s.status) for s in view.steps]


@pytest.mark.slow
def test_a_home_whose_payloads_cannot_be_written_runs_the_step_once_and_says_why(
    tmp_path: Path,
) -> None:
    """`podium run` on such a home called the function 11 times and printed 11
    tracebacks; it runs the step once and says in a line that payloads/ cannot be
    written, exiting non-zero."""
    home, calls = tmp_path / "home", tmp_path / "calls"
    home.mkdir()
    (home / "payloads").write_text("not a directory")
    done = subprocess.run(
        podium_command("run", str(_workflow(tmp_path, calls))),
        cwd=ROOT,
        env=env_for(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    ran = _calls(calls)
    assert "Traceback" not in done.stderr and len(ran) == 1, (
        f"the step's function ran {len(ran)} times (attempts {ran}); exit {done.returncode};"
        f" {done.stderr.count('Traceback')} tracebacks; last lines: {done.stderr[-600:]}"
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "payloads" in lines[0], done.stderr
