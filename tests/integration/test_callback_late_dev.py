"""``podium dev`` answers a callback result received after the step's deadline as the
deployed API does (409 ``deadline_passed``: it is the same API function), and ``podium
callback --endpoint`` prints the refusal and exits 1; the attempt then times out."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.callbacks import token_of
from podium.local.dev_server import DevServer, wait_until
from tests.integration.dev_support import memory_dev_server, post


@pytest.fixture
def dev() -> Iterator[DevServer]:
    with memory_dev_server(clock=ManualClock()) as server:
        yield server


def step_of(server: DevServer, run_id: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.url}/runs/{run_id}", timeout=10) as response:
        steps = json.loads(response.read())["steps"]
    # Not listed until the run's first pass created it: no status yet, not an error.
    return next((s for s in steps if s["step"] == "wait"), {"status": None})


def test_podium_dev_refuses_a_late_result_as_the_api_does(dev: DevServer) -> None:
    # No timeout: the 10-day default has no timer (the sweeper, every 60 s of real time,
    # enforces it), so nothing ends the attempt before the late result comes.
    wf = {"name": "dev_late", "steps": [{"id": "wait", "type": "wait_for_callback"}]}
    assert post(dev, "/workflows", wf)[0] == 201
    _, run = post(dev, "/workflows/dev_late/runs", {})
    run_id = run["run_id"]
    assert wait_until(lambda: step_of(dev, run_id)["status"] == "RUNNING")
    clock = dev.runtime.clock
    assert isinstance(clock, ManualClock)
    clock.advance(int(DEFAULT_WAIT_TIMEOUT_SECONDS * 1000) + 1_000)
    token = token_of(f"{run_id}/wait/1")
    status, body = post(dev, f"/callbacks/{token}", {"success": {"rows": 1}})
    assert (status, body["code"]) == (409, "deadline_passed"), body
    assert "after the attempt's deadline" in body["message"]
    result = CliRunner().invoke(
        app, ["callback", token, "--success", '{"rows": 1}', "--endpoint", dev.url]
    )
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "after the attempt's deadline" in text and "(HTTP 409)" in text, text
    # The late result's done, sent all the same, times the attempt out at once.
    assert wait_until(lambda: step_of(dev, run_id)["status"] == "TIMED_OUT")
