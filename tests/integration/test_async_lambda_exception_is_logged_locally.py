"""``lambda`` with ``invocation: async`` on the local home (adapters/runners.
LocalFunctionRunner.invoke_async): the callable runs on a thread of its own and its
outcome is dropped, as Lambda drops an Event invocation's; its exception was dropped
with it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.adapters.runners import LocalFunctionRunner
from podium.adapters.sqlite import Database
from podium.adapters.sqlite.logs import SqliteLogs
from podium.cli.main import app
from podium.core.ports import Invocation
from podium.local import capture


def _module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> str:
    name = f"async_fn_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_an_async_functions_exception_was_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An async function that raised (KeyError: 'customer_id') before it called back left
    no trace locally: not in `podium run`'s output, not in `podium runs logs`; the step
    just waited, in real time, for its timeout. Deployed, Lambda logs the exception in
    the function's log group; locally it was printed as Lambda logs it."""
    name = _module(tmp_path, monkeypatch, "def work(event):\n    raise KeyError('customer_id')\n")
    workflow = {
        "name": "async_raises",
        "steps": [
            {
                "id": "enrich",
                "type": "lambda",
                "function": f"{name}:work",
                "invocation": "async",
                "timeout": "3s",
            }
        ],
    }
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(workflow))
    monkeypatch.chdir(tmp_path)
    home = str(tmp_path / "home")
    runner = CliRunner()
    ran = runner.invoke(app, ["run", str(path), "--home", home])
    assert ran.exit_code == 1, ran.output  # timed out, as it should (nobody called back)
    listed = runner.invoke(app, ["runs", "list", "async_raises", "--home", home, "--json"])
    run_id = json.loads(listed.stdout)["runs"][0]["run_id"]
    logs = runner.invoke(app, ["runs", "logs", run_id, "enrich", "--home", home])
    shown = ran.output + logs.output
    assert "[ERROR] KeyError: 'customer_id'" in shown, (ran.output[-300:], logs.output[-300:])
    assert "Traceback (most recent call last)" in shown


def test_with_a_capture_an_async_call_is_in_the_attempts_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the home's capture (local/capture.AttemptCapture), what an async call printed
    and its exception went to the attempt's log, as a Lambda's lines go to its log
    stream, not to this process's streams."""
    name = _module(
        tmp_path,
        monkeypatch,
        "def work(event):\n    print('enriching')\n    raise KeyError('customer_id')\n",
    )
    db = Database(tmp_path / "podium.db")
    logs = SqliteLogs(db)
    runner = LocalFunctionRunner(capture=capture.AttemptCapture(logs, ManualClock()))
    capture.install()
    try:
        started = runner.invoke_async(Invocation(f"{name}:work", {}, "r1/enrich/1"))
        assert started.ok
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline and "customer_id" not in text:
            time.sleep(0.05)
            text = "".join(e.text for e in logs.read("r1", "enrich", 1))
    finally:
        capture.uninstall()
    entries = [(e.stream, e.text) for e in logs.read("r1", "enrich", 1)]
    assert [stream for stream, _ in entries] == ["stdout", "stderr"], entries
    assert entries[0][1] == "enriching\n"
    assert entries[1][1].startswith("[ERROR] KeyError: 'customer_id'"), entries
    assert "Traceback (most recent call last)" in entries[1][1]
    db.close()
