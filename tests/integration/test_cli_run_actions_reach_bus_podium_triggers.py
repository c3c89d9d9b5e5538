"""A ``bus: podium`` trigger on the local home missed the status changes that the CLI's
run actions made (``podium runs kill|stop|pause``, ``restart --no-wait``) while
``podium dev`` served the home; now they reach it.

The embedded runtime offers what the engine publishes to the triggers on Podium's bus
(docs/workflow-language.md: "the embedded runtime (podium run, podium dev) delivers
these too"), but the published events live in the memory of the process that made the
change (adapters/events.MemoryEvents), and only a pump (``LocalRuntime.pump``, or dev's
housekeeping) routed them. A run action from the command line applies the change in the
CLI's own process (cli/action_commands.py ``_Local``: a LocalRuntime on the home), and
``runs kill`` / ``stop`` / ``pause`` never pump: the run's FAILED (STOPPED, PAUSED)
status change was published into a process that then exited, and was lost. The same
kill from dev's console or API started the alerting workflow; from the terminal it did
not. Now ``LocalRuntime.stop`` routes what its process published before it retires (so
does a command on the home, cli/local_home.py ``Home``), and the runs the triggers start
are left on the home for dev to adopt.

The CLI runs as a real process (``python -m podium.cli.main runs kill``); the test's own
process plays ``podium dev`` on the same home (adopting what the CLI left, pumping).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]

ETL = {
    "name": "etl_cli",
    "steps": [{"id": "load", "type": "wait_for_callback", "timeout": 3600}],
}
ALERT = {
    "name": "alert_cli",
    "params": {"failed": {"type": "string", "default": "?"}},
    "steps": [{"id": "page", "type": "noop"}],
    "triggers": [
        {
            "id": "on_etl_failed",
            "event": {
                "bus": "podium",
                "pattern": {
                    "source": ["podium"],
                    "detail-type": ["Podium Run Status Change"],
                    "detail": {"workflow": ["etl_cli"], "status": ["FAILED"]},
                },
            },
            "params": {"failed": "${event.detail.run_id}"},
        }
    ],
}


def test_a_run_killed_from_the_cli_starts_the_bus_podium_trigger(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home, virtual_time=False) as dev:
        dev.push(ALERT)
        dev.push(ETL)
        run_id = dev.start_run("etl_cli").run_id
        dev.pump(wait=False)  # its step waits for a callback
        assert dev.store.get_run(run_id).status is RunStatus.RUNNING

        env = {k: v for k, v in os.environ.items() if k != "PODIUM_CONFIG"}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
        done = subprocess.run(
            [sys.executable, "-m", "podium.cli.main", "runs", "kill", run_id, "--home", str(home)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert dev.store.get_run(run_id).status is RunStatus.FAILED

        # podium dev: takes over what the CLI left on the home, delivers, routes.
        assert dev.owners is not None
        dev.owners.adopt()
        dev.pump(wait=False)

        alerts = dev.store.list_runs("alert_cli", 10)
        assert [r.params.get("failed") for r in alerts] == [run_id], (
            "the FAILED status change of a run killed from the CLI reached no bus: podium"
            f" trigger (alert runs: {alerts})"
        )
