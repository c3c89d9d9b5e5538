"""``podium dev`` on a home shared with other terminals, and what a browser may send it.

Dev's workers delivered only their own queues: a ``podium signal send`` or ``callback``
from another terminal left its message on the home for good, a trigger on Podium's own
bus never fired, and nothing swept. And any web page could push and start workflows on
it (a "simple" POST needs no preflight; a DNS-rebinding name reads the answers too)."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.local import dev_server
from podium.local.dev_server import DevServer, wait_until
from podium.local.runtime import LocalRuntime
from tests.integration.test_cli_local import podium


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def dev(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DevServer]:
    monkeypatch.setattr(dev_server, "SWEEP_EVERY_S", 0.2)
    runtime = LocalRuntime(store="sqlite", home=home, virtual_time=False, workers=2, batch_size=1)
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            yield server
    finally:
        runtime.stop()


def post(dev: DevServer, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=10)
    wanted = {"content-type": "application/json", "host": f"127.0.0.1:{dev.port}"}
    conn.request("POST", path, body=json.dumps(body), headers={**wanted, **(headers or {})})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def status_of(dev: DevServer, run_id: str) -> str:
    with urllib.request.urlopen(f"{dev.url}/runs/{run_id}", timeout=10) as response:
        return str(json.loads(response.read())["run"]["status"])


def test_a_signal_sent_from_another_terminal_reaches_a_run_in_podium_dev(
    dev: DevServer, home: Path
) -> None:
    wf = {"name": "waits", "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}]}
    assert post(dev, "/workflows", wf)[0] == 201
    run_id = post(dev, "/workflows/waits/runs", {})[1]["run_id"]
    assert wait_until(lambda: status_of(dev, run_id) == "RUNNING")
    sent = podium(home, "signal", "send", "go", "-p", "n=1")  # another terminal, the home
    assert sent.returncode == 0, sent.stderr
    assert wait_until(lambda: status_of(dev, run_id) == "SUCCEEDED", 15)


def test_a_trigger_on_podiums_own_bus_fires_under_podium_dev(dev: DevServer) -> None:
    assert post(dev, "/workflows", {"name": "etl", "steps": [{"id": "boom", "type": "fail"}]})[0]
    pager = {
        "name": "pager",
        "steps": [{"id": "page", "type": "noop"}],
        "triggers": [
            {
                "event": {
                    "bus": "podium",
                    "pattern": {
                        "detail-type": ["Podium Run Status Change"],
                        "detail": {"workflow": ["etl"], "status": ["FAILED"]},
                    },
                }
            }
        ],
    }
    assert post(dev, "/workflows", pager)[0] == 201
    run_id = post(dev, "/workflows/etl/runs", {})[1]["run_id"]
    assert wait_until(lambda: status_of(dev, run_id) == "FAILED")
    assert wait_until(lambda: bool(dev.runtime.store.list_runs("pager", 5)), 10)


def test_podium_dev_sweeps_as_the_deployed_sweeper_does(
    dev: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step left RUNNING by a process that stopped is reclaimed by a sweep only."""
    from podium.service import sweep

    swept: list[int] = []
    real = sweep.sweep
    monkeypatch.setattr(sweep, "sweep", lambda *a, **k: swept.append(1) or real(*a, **k))
    assert wait_until(lambda: len(swept) >= 2, 5)


def test_another_site_cannot_write_and_a_rebinding_name_gets_nothing(dev: DevServer) -> None:
    evil = {"content-type": "text/plain", "origin": "http://evil.example"}
    assert (
        post(dev, "/workflows", {"name": "x", "steps": [{"id": "a", "type": "noop"}]}, evil)[0]
        == 403
    )
    status, body = post(dev, "/workflows", {}, {"host": f"evil.example:{dev.port}"})
    assert status == 403 and "unexpected Host" in body["message"]
    assert dev.runtime.store.list_workflows() == []


def _raw(dev: DevServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", dev.port), timeout=5) as s:
        s.sendall(request)
        return s.recv(65536)


def test_malformed_requests_get_an_answer(dev: DevServer) -> None:
    host = f"Host: 127.0.0.1:{dev.port}\r\n".encode()
    for length in (b"abc", b"-1"):
        answer = _raw(
            dev,
            b"POST /workflows HTTP/1.1\r\n" + host + b"Content-Length: " + length + b"\r\n\r\n{}",
        )
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert _raw(dev, b"GET /static/%00 HTTP/1.1\r\n" + host + b"\r\n").startswith(b"HTTP/1.1 404")
    try:
        urllib.request.urlopen(dev.url + "/static/%00", timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
