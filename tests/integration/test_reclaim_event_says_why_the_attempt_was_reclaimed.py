"""A reclaimed attempt's ``reclaim`` timeline event said nothing of why: ``podium runs
show`` listed under "errors" a line ``b attempt 1 reclaim: `` that ended there, after a
process died mid-step (service/abandoned.py) as after a lease passed (service/sweep.py),
since the event's detail had no ``error`` (only ``lease_until``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite import SqliteStateStore
from podium.cli.main import app
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]


def _killed_mid_step(tmp_path: Path) -> tuple[Path, str, int]:
    """A home whose run lost step b with its process (os._exit inside the step), then
    opened by a runtime that reclaims it; the run's id and the dead process's pid."""
    home, marker = tmp_path / ".podium", tmp_path / "marker"
    code = (
        "from tests.integration.test_sqlite_home import _run_until_killed;"
        f" _run_until_killed({str(home)!r}, {str(marker)!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    assert proc.wait(timeout=120) == 0
    assert marker.exists()
    with LocalRuntime(clock=ManualClock(), store="sqlite", home=home) as rt:
        assert isinstance(rt.store, SqliteStateStore)
        (run,) = rt.store.search_runs("lost_worker")
        rt.pump(run_id=run.run_id)
        return home, run.run_id, proc.pid


def test_runs_show_says_why_an_attempt_was_reclaimed(tmp_path: Path) -> None:
    """After a process died mid-step, the reclaim line said nothing after "reclaim:"."""
    home, run_id, pid = _killed_mid_step(tmp_path)
    assert pid != os.getpid()
    shown = CliRunner().invoke(app, ["runs", "show", run_id, "--home", str(home)])
    assert shown.exit_code == 0, shown.output
    lines = [" ".join(line.split()) for line in shown.output.splitlines()]
    reclaim = [line for line in lines if "attempt 1 reclaim" in line]
    assert reclaim, shown.output
    assert not reclaim[0].endswith("reclaim:"), (
        f"runs show says {reclaim[0]!r}: nothing about why the attempt was reclaimed"
    )
    said = " ".join(lines[lines.index(reclaim[0]) :])
    assert f"the process running it (pid {pid}) stopped before the attempt ended" in said, said


class Vanished(BaseException):
    """The worker's end: its invocation never returns a result."""


def vanish_once(event: dict[str, Any]) -> str:
    if event["attempt"] == 1:
        raise Vanished("the worker died")
    return "done"


def test_a_reclaim_after_a_lease_passed_says_the_worker_was_lost(runtime: LocalRuntime) -> None:
    """The sweeper's reclaim of an attempt whose lease passed recorded only the lease."""
    runtime.push(
        {
            "name": "lease_passed",
            "steps": [{"id": "work", "type": "lambda", "function": f"{__name__}:vanish_once"}],
        }
    )
    run_id = runtime.start_run("lease_passed").run_id
    runtime.pump(max_deliveries=3)  # the worker vanishes mid-attempt: the step stays RUNNING
    assert runtime.store.get_step(run_id, "work").status is StepStatus.RUNNING
    runtime.clock.advance(runtime.services.lease_ms + 1)
    sweep(runtime.services, runtime.store)
    runtime.pump()
    assert runtime.store.get_run(run_id).status.value == "SUCCEEDED"
    (reclaim,) = [e for e in runtime.store.list_events(run_id) if e.kind == "reclaim"]
    error = (reclaim.detail or {}).get("error")
    assert error == "its lease passed and no result was recorded: the worker running it was lost"
