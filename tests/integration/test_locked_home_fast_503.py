"""``podium dev`` while another process holds its home's write lock (a long ``podium runs
prune``, a sqlite3 shell in a transaction): a request that had to write waited SQLite's
30 s busy timeout, often longer (queued behind the worker threads, each waiting its own
30 s), before its 503; an API read queued behind it waited as long. Requests wait a couple
of seconds now (home_busy.REQUEST_WAIT_MS); the engine's workers keep waiting 30 s.

The busy timeout is left at its 30 s here (test_dev_home_locked.py shortens it): what is
checked is that a request does not wait for it. The bounds are generous: a behaviour
check, not a benchmark."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.sqlite import db as sqlite_db
from podium.local import home_busy
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime
from tests.integration.test_dev_home_locked import held_lock

FLOW = {"name": "locked_fast", "steps": [{"id": "a", "type": "noop"}]}
NAPPER = {"name": "napper", "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}]}
FAST_S = 5.0  # REQUEST_WAIT_MS is 2 s; the busy timeout 30 s
CLIENT_TIMEOUT_S = 20.0  # a request that waits the busy timeout out fails here, not hangs


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevServer]:
    assert sqlite_db.BUSY_TIMEOUT_MS == 30_000  # the timeout in use, not a test's
    runtime = LocalRuntime(store="sqlite", home=tmp_path / "home", virtual_time=False)
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
        assert not server.failures, server.failures  # a lock held elsewhere is no failure
    finally:
        runtime.stop()


def send(dev: DevServer, method: str, path: str, body: Any = None) -> tuple[int, Any, Any, float]:
    """The status, headers and JSON body of a request, and how long it took."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        dev.url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_S) as response:
            answer = response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        answer = exc.code, exc.headers, json.loads(exc.read())
    except TimeoutError:  # no answer within CLIENT_TIMEOUT_S: status 0
        answer = 0, {}, {"message": f"no answer in {CLIENT_TIMEOUT_S}s"}
    return (*answer, time.monotonic() - began)


def test_a_write_on_a_locked_home_is_answered_503_in_seconds(dev: DevServer) -> None:
    status, _, body, _ = send(dev, "POST", "/workflows", NAPPER)
    assert status in (200, 201), body
    status, _, started, _ = send(dev, "POST", "/workflows/napper/runs", {"params": {}})
    assert status == 202, started
    other = held_lock(dev)
    try:
        time.sleep(1.5)  # the workers meet the lock too (housekeeping writes every second)
        status, headers, body, took = send(dev, "POST", "/workflows", FLOW)
        assert status == 503, body
        assert took < FAST_S, f"answered after {took:.1f}s"
        assert headers.get("Retry-After") == str(home_busy.RETRY_AFTER_S)
        assert body["code"] == "home_locked"
        assert "is locked by another process" in body["message"], body
        assert f"waited {home_busy.REQUEST_WAIT_MS / 1000:g}s" in body["message"], body
        # An action on the sleeping run (the console's buttons) is a write too.
        status, headers, body, took = send(
            dev, "POST", f"/runs/{started['run_id']}/actions", {"action": "stop"}
        )
        assert (status, took < FAST_S) == (503, True), (status, took, body)
        assert headers.get("Retry-After") == str(home_busy.RETRY_AFTER_S)
        # A read of the console's views does not wait for the writer at all (WAL).
        status, _, body, took = send(dev, "GET", "/api/console/runs")
        assert status == 200 and took < FAST_S, (status, took, body)
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The lock is gone: the same request goes through (the workers waited it out).
    status, _, body, _ = send(dev, "POST", "/workflows", FLOW)
    assert status in (200, 201), body


def test_an_api_read_queued_behind_a_waiting_write_is_answered_in_seconds(
    dev: DevServer,
) -> None:
    """API calls take turns (dev_server.api_lock): a GET behind a write waiting for the
    lock waited as long as the write did."""
    other = held_lock(dev)
    answers: dict[str, tuple[int, float]] = {}

    def write() -> None:
        status, _, _, took = send(dev, "POST", "/workflows", FLOW)
        answers["write"] = (status, took)

    try:
        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.3)  # the write has its turn on the API, and waits for the home
        status, _, body, took = send(dev, "GET", "/workflows")
        writer.join(CLIENT_TIMEOUT_S + 5)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert status == 200, body
    assert took < FAST_S, f"the read waited {took:.1f}s"
    assert answers["write"][0] == 503 and answers["write"][1] < FAST_S, answers
