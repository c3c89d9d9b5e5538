"""``podium dev``'s console views read their query parameters as the deployed API does: a
boolean is true or false, anything else is a 400 naming the parameter (it was read as
false)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime

LOOP = {
    "name": "loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"n": [1, 2]},
            "steps": [{"id": "a", "type": "noop"}],
        }
    ],
}


@pytest.fixture
def dev() -> Iterator[DevServer]:
    runtime = LocalRuntime(store="memory")
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
    finally:
        runtime.stop()


def get(server: DevServer, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_failed_only_is_true_or_false(dev: DevServer) -> None:
    view = dev.runtime.run(LOOP)
    step = f"/api/console/runs/{view.run.run_id}/step?name=each"
    status, body = get(dev, f"{step}&failed_only=banana")
    assert status == 400, body
    assert body["errors"] == [{"path": "query.failed_only", "message": "use true or false"}]
    for value in ("true", "TRUE", "false", ""):
        status, body = get(dev, f"{step}&failed_only={value}")
        assert status == 200, (value, body)
