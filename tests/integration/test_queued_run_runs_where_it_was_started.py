"""A run that ``podium run`` queued behind a run of ``podium dev`` was run by dev, which
could not play its functions; now it runs in the ``podium run`` that started it.

Processes sharing a home "each deliver the messages they sent (an owners row per
process; its steps' functions import there)" (docs/architecture.md, Local home): a
``podium run flows/etl.json`` maps the workflow's Lambda names with the ``podium.toml``
beside the file and imports from the file's folder; ``podium dev`` reads ``./podium.toml``
of its own working directory. But the start of a run that waited QUEUED under its
workflow's run strategy (``sequential``, the default) is sent by whichever process
admits it: the one that ended the run holding the slot (service/admission.py
``admit_next``, from ``run_ended``). When that was ``podium dev``, dev owned the queued
run's messages and ran its steps, though the run was started by, and was waited for by,
``podium run`` in another terminal: there its Lambda names were not mapped, and the run
failed with Podium.FunctionNotMapped (or it ran user code in the wrong process). Now a
run on the home records the process that started it (``runs.started_by``; a child run
its parent's), and a message of the run goes to that process while it lives, whoever
sends it (adapters/sqlite/queue.py).

The test's process plays ``podium dev`` (a home runtime without the mapping, pumping in
the background); ``podium run`` is a real process with ``podium.toml`` beside its file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from podium.core.engine.actions import RunAction
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = {
    "name": "etl_admit",
    "steps": [{"id": "extract", "type": "lambda", "function": "sales-extract"}],
}


def test_a_run_podium_run_queued_is_run_where_its_functions_are(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "etl.json").write_text(json.dumps(WORKFLOW))
    (flows / "podium.toml").write_text('[functions]\n"sales-extract" = "local_sales:extract"\n')
    (flows / "local_sales.py").write_text("def extract(event):\n    return {'rows': 3}\n")
    home = tmp_path / "home"

    with LocalRuntime(store="sqlite", home=home, virtual_time=False) as dev:
        dev.push(WORKFLOW)
        first = dev.start_run("etl_admit").run_id  # holds the workflow's slot

        env = {k: v for k, v in os.environ.items() if k != "PODIUM_CONFIG"}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
        terminal = subprocess.Popen(
            [sys.executable, "-m", "podium.cli.main", "run", str(flows / "etl.json"),
             "--json", "--home", str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            queued: list[RunRecord] = []
            while not queued and time.monotonic() < deadline and terminal.poll() is None:
                queued = [
                    r
                    for r in dev.store.list_runs("etl_admit", 10)
                    if r.run_id != first and r.status is RunStatus.QUEUED
                ]
                time.sleep(0.05)
            assert queued, "podium run did not queue its run"
            (second,) = queued

            # An operator stops the first run in dev's console: dev admits the second.
            run_action(dev.services, first, RunAction.STOP, Actor("me", None, None))

            stop = threading.Event()

            def serve() -> None:  # dev's workers
                while not stop.is_set():
                    dev.pump(wait=False)
                    stop.wait(0.05)

            worker = threading.Thread(target=serve, daemon=True)
            worker.start()
            try:
                _, err = terminal.communicate(timeout=60)
            finally:
                stop.set()
                worker.join(10)
        finally:
            if terminal.poll() is None:
                terminal.kill()
                terminal.communicate()

        ended = dev.store.get_run(second.run_id)
        step = dev.store.get_step(second.run_id, "extract")
        assert ended.status is RunStatus.SUCCEEDED, (
            f"podium run's queued run ended {ended.status.value}: its step"
            f" {step.status.value if step else None} with {step.error if step else None!r}"
            f" (podium run exit {terminal.returncode})"
        )
        assert terminal.returncode == 0, err
