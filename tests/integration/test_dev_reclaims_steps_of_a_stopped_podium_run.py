"""A step that a `podium run` left RUNNING in-process when it was killed or interrupted,
while `podium dev` served the same home, was reclaimed only once its lease passed: a
lease stamped by `podium run`'s virtual clock, a day ahead after a day's sleep it
skipped, so the run stayed RUNNING for a day of real time (and 16 minutes at best)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import podium
from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

ROOT = Path(__file__).resolve().parents[2]
# The podium under test (this process's), for the other process too.
FUNCTIONS = Path(podium.__file__).resolve().parents[1]
DAY_S = 86_400
HERE = "tests.integration.test_dev_reclaims_steps_of_a_stopped_podium_run"


def _hang(event: dict[str, Any]) -> dict[str, Any]:
    """Says it started (a marker file), then runs far longer than the test waits."""
    Path(event["payload"]["marker"]).write_text(str(os.getpid()))
    time.sleep(600)
    return {"ok": True}


def _sleep_then_hang(home: str, marker: str) -> None:
    """``podium run`` (virtual time) of a workflow that sleeps a day, then runs a step
    that is still running when the test kills this process."""
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.run(
            {
                "name": "sleepy",
                "steps": [
                    {"id": "nap", "type": "sleep", "seconds": DAY_S, "timeout": 2 * DAY_S},
                    {
                        "id": "work",
                        "type": "lambda",
                        "function": f"{HERE}:_hang",
                        "payload": {"marker": marker},
                        "depends_on": ["nap"],
                    },
                ],
            }
        )


def _housekeeping(dev: LocalRuntime) -> None:
    """One pass of `podium dev`'s housekeeping (its workers run it every second)."""
    server = DevServer(dev, port=0)
    try:
        server._housekeeping()
    finally:
        server.httpd.server_close()


@pytest.mark.parametrize(
    "stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill-9", "kill", "ctrl-c"]
)
def test_a_step_a_killed_podium_run_left_is_reclaimed_by_dev_after_a_real_lease(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """A `podium run` whose run slept a day (virtual time jumped it) was killed mid-step
    while `podium dev` served the home: dev's sweep should have reclaimed the step once
    its lease (16 minutes of real time) had passed, but the lease and the run's check
    were stamped in the killed process's virtual time, a day ahead, and dev reclaimed
    abandoned steps only at its own start, so the run stayed RUNNING for a day of real
    time. A plain kill was the same, and a Ctrl-C (the process stopped, and left the
    home's registry) waited the lease too. Dev's housekeeping now reclaims the steps
    whose claimant left the home."""
    home, marker = tmp_path / "home", tmp_path / "started"
    started_at = time.time_ns() // 1_000_000
    dev_clock = ManualClock(start_ms=started_at)
    # "podium dev": alive on the home before the run starts (so nothing is reclaimed at
    # a runtime's start), and in real time (its clock is moved by hand here).
    with LocalRuntime(store="sqlite", home=home, virtual_time=False, clock=dev_clock) as dev:
        env = {k: v for k, v in os.environ.items() if k != "PODIUM_CONFIG"}
        env["PYTHONPATH"] = os.pathsep.join([str(FUNCTIONS), str(ROOT)])
        code = (
            f"from {HERE} import _sleep_then_hang; _sleep_then_hang({str(home)!r}, {str(marker)!r})"
        )
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 90
            while not marker.exists():
                assert proc.poll() is None, "the podium run process ended early"
                assert time.monotonic() < deadline, "the step never started"
                time.sleep(0.1)
        finally:
            proc.send_signal(stop)
            proc.wait(timeout=30)
        (run,) = dev.store.search_runs("sleepy")
        step = dev.store.get_step(run.run_id, "work")
        assert step is not None and step.status is StepStatus.RUNNING
        # 20 minutes of real time later: past any lease the step could have had.
        dev_clock.advance_to(started_at + 20 * 60_000)
        _housekeeping(dev)
        sweep(dev.services, dev.store)
        after = dev.store.get_step(run.run_id, "work")
        assert after is not None
        assert after.status is not StepStatus.RUNNING, (
            f"still RUNNING 20 min after its process was killed: lease_until"
            f" {after.lease_until} is {(after.lease_until or 0) - started_at} ms after the"
            f" run started (the killed process's virtual clock)"
        )
        # Reclaimed as lost, as the sweeper would have: its next attempt is due.
        kinds = [e.kind for e in dev.store.list_events(run.run_id)]
        assert "reclaim" in kinds, kinds
