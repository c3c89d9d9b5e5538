"""``podium dev`` in an integration test: a dev server over a fresh in-memory runtime,
and a JSON POST to it that returns a refusal as it returns an answer."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from podium.adapters.clock import ManualClock
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime


@contextmanager
def memory_dev_server(clock: ManualClock | None = None) -> Iterator[DevServer]:
    """``podium dev`` on a free port over an in-memory runtime on real time (its clock:
    ``clock``, or the system's)."""
    with (
        LocalRuntime(store="memory", virtual_time=False, clock=clock) as runtime,
        DevServer(runtime, port=0) as server,
    ):
        yield server


def post(server: DevServer, path: str, body: Any) -> tuple[int, Any]:
    """POST ``body`` as JSON: the status and the decoded answer, a refusal's too."""
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
