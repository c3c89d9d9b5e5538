"""``podium dev`` while another process holds its home's write lock (a ``sqlite3`` shell
in a transaction, a long CLI write): a write waits the busy timeout out, then the home
is locked. Dev answered that with a 500 ("Internal Server Error"), as it does a bug, and
its worker counted each lock as a failure. It answers 503 with Retry-After and a JSON
error saying whose lock it is and what to do, and keeps serving."""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.sqlite import db as sqlite_db
from podium.local import dev_server
from podium.local.dev_server import DevServer
from podium.local.runtime import LocalRuntime

FLOW = {"name": "locked_home", "steps": [{"id": "a", "type": "noop"}]}


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevServer]:
    # A short busy timeout (30 s in use), set before any connection opens.
    monkeypatch.setattr(sqlite_db, "BUSY_TIMEOUT_MS", 200)
    runtime = LocalRuntime(store="sqlite", home=tmp_path / "home", virtual_time=False)
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
        assert not server.failures, server.failures  # a lock held elsewhere is no failure
    finally:
        runtime.stop()


def send(dev: DevServer, method: str, path: str, body: Any = None) -> tuple[int, Any, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        dev.url + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


def held_lock(dev: DevServer) -> sqlite3.Connection:
    """Another process's write transaction on the home's file."""
    database = dev.runtime.database
    assert database is not None
    other = sqlite3.connect(database, isolation_level=None, timeout=5)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_an_api_write_on_a_locked_home_is_answered_503_with_retry_after(dev: DevServer) -> None:
    other = held_lock(dev)
    try:
        status, headers, body = send(dev, "POST", "/workflows", FLOW)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert status == 503, body
    assert headers.get("Retry-After") == str(dev_server.RETRY_AFTER_S)
    assert body["code"] == "home_locked"
    message = body["message"]
    assert "is locked by another process" in message, message
    assert "end the other process's write transaction" in message and "retry in" in message
    # Once the lock is gone, the same request goes through.
    status, _, body = send(dev, "POST", "/workflows", FLOW)
    assert status in (200, 201), body


def test_a_console_view_on_a_locked_home_is_answered_503_too(
    dev: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A home in WAL mode lets readers read past a writer: the view is made to meet one.
    from podium.service import console_views

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise sqlite_db.HomeLocked("the home at H is locked by another process (...)")

    monkeypatch.setattr(console_views, "list_console_runs", locked)
    status, headers, body = send(dev, "GET", "/api/console/runs")
    assert status == 503, body
    assert headers.get("Retry-After") == str(dev_server.RETRY_AFTER_S)
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert body["code"] == "home_locked" and "locked by another process" in body["message"]
