"""podium dev accepts signals: POST /signals on the dev server wakes a waiting step, and
``podium signal send --endpoint`` reaches it too."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.dev_server import DevServer, wait_until
from tests.integration.dev_support import memory_dev_server, post


@pytest.fixture
def dev() -> Iterator[DevServer]:
    with memory_dev_server() as server:
        yield server


def status_of(server: DevServer, run_id: str) -> str:
    with urllib.request.urlopen(f"{server.url}/runs/{run_id}", timeout=10) as response:
        return str(json.loads(response.read())["run"]["status"])


def test_signals_sent_to_podium_dev_release_waiting_steps(dev: DevServer) -> None:
    wf = {
        "name": "dev_waits",
        "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}],
    }
    assert post(dev, "/workflows", wf)[0] == 201
    _, run = post(dev, "/workflows/dev_waits/runs", {})
    status, sent = post(dev, "/signals", {"name": "go", "params": {"n": 1}})
    assert status == 201 and sent["created"]
    assert wait_until(lambda: status_of(dev, run["run_id"]) == "SUCCEEDED")

    fresh = {
        "name": "dev_fresh",
        "steps": [
            {"id": "w", "type": "noop", "wait_for": [{"signal": "go", "since": "step_start"}]}
        ],
    }
    assert post(dev, "/workflows", fresh)[0] == 201
    _, second = post(dev, "/workflows/dev_fresh/runs", {})
    assert wait_until(lambda: status_of(dev, second["run_id"]) == "RUNNING")

    result = CliRunner().invoke(
        app, ["signal", "send", "go", "-p", "n=2", "--endpoint", dev.url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] is True
    assert wait_until(lambda: status_of(dev, second["run_id"]) == "SUCCEEDED")
