"""Both local servers (``podium dev``, ``podium console``) let a client that stops
sending go after a per-connection timeout (REQUEST_TIMEOUT_S, 60 s; shortened here):
neither set one, so a client that sent half a request and stalled held its thread and
its socket for as long as it stayed connected."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from podium.cli import console_command
from podium.cli.console_command import ConsoleProxy
from podium.cli.remote import ApiClient
from podium.local import dev_server
from tests.integration.dev_support import memory_dev_server
from tests.integration.local_servers_support import send

HALF_A_BODY = (
    b"POST /workflows HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)
HALF_THE_HEADERS = b"GET /workflows HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """podium dev and podium console over it, each with a timeout of half a second."""
    monkeypatch.setattr(dev_server, "REQUEST_TIMEOUT_S", 0.5, raising=False)
    monkeypatch.setattr(console_command, "REQUEST_TIMEOUT_S", 0.5, raising=False)
    with memory_dev_server() as dev:
        client = ApiClient(endpoint=dev.url, credentials=None, region="local")
        with ConsoleProxy(client, port=0) as proxy:
            yield {"dev": dev.port, "console": proxy.port}


def _all_it_answers(stalled: socket.socket) -> bytes:
    """What the server sends until it closes the connection (a socket timeout of 5 s:
    a server that never lets go fails the test, not hangs it)."""
    stalled.settimeout(5)
    answer = b""
    while chunk := stalled.recv(4096):
        answer += chunk
    return answer


@pytest.mark.parametrize("server", ["dev", "console"])
def test_a_client_that_stalls_in_its_body_is_answered_408_and_let_go(
    ports: dict[str, int], server: str
) -> None:
    port = ports[server]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as stalled:
        stalled.sendall(HALF_A_BODY % port)
        # Another request is answered meanwhile (each connection has its thread).
        assert send(port, "GET", "/workflows")[0] == 200
        answer = _all_it_answers(stalled)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code": "request_timeout"' in answer, answer


@pytest.mark.parametrize("server", ["dev", "console"])
def test_a_client_that_stalls_in_its_headers_is_let_go(ports: dict[str, int], server: str) -> None:
    port = ports[server]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as stalled:
        stalled.sendall(HALF_THE_HEADERS % port)
        assert send(port, "GET", "/workflows")[0] == 200
        assert _all_it_answers(stalled) == b""  # closed, nothing to answer
