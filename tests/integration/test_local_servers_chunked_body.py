"""``podium dev`` and ``podium console`` and a request body sent ``Transfer-Encoding:
chunked`` (no Content-Length: ``curl -T -``, a streaming client).

Both servers read only Content-Length: a chunked body was taken for no body at all, and
its chunks were left on the connection to be read as the next request. dev started a
run with default params under a new id (202); the console forwarded an empty POST."""

from __future__ import annotations

import json
import socket
from typing import Any

from podium.cli.console_command import ConsoleProxy
from tests.integration.dev_support import memory_dev_server, post
from tests.integration.test_dev_console_views_blank_query import get_json

WORKFLOW = {
    "name": "dev_chunked",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [{"id": "a", "type": "noop"}],
}


def _raw(port: int, request: bytes) -> bytes:
    """Send ``request`` as is on one connection; what comes back until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            pass
        return data


def _chunked(port: int, path: str, chunks: list[bytes], extra: str = "") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n{extra}"
        "Connection: close\r\n\r\n"
    ).encode()
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return head + body + b"0\r\n\r\n"


def _status(answer: bytes) -> str:
    return answer.split(b"\r\n", 1)[0].decode()


def test_dev_reads_a_chunked_body() -> None:
    """dev took a chunked ``{"params": {"n": 5}, "run_id": "chunked-1"}`` for no body
    and started a run with n=1 under a new id; it reads the body now, as API Gateway
    does, and starts the run asked for (the body sent in two chunks)."""
    with memory_dev_server() as server:
        assert post(server, "/workflows", WORKFLOW)[0] == 201
        body = json.dumps({"params": {"n": 5}, "run_id": "chunked-1"}).encode()
        request = _chunked(server.port, "/workflows/dev_chunked/runs", [body[:10], body[10:]])
        answer = _raw(server.port, request)
        assert _status(answer) == "HTTP/1.1 202 Accepted", answer[:300]
        status, listed = get_json(server.url + "/workflows/dev_chunked/runs")
        assert status == 200
        assert {r["run_id"]: r["params"] for r in listed["runs"]} == {"chunked-1": {"n": 5}}


def test_dev_refuses_a_chunk_over_the_body_limit_before_reading_it() -> None:
    """A chunk announced bigger than the 10 MiB body limit was not looked at (the body
    was not read at all); it is refused 413 before its bytes are read."""
    with memory_dev_server() as server:
        head = (
            f"POST /workflows HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Transfer-Encoding: chunked\r\n\r\nA00001\r\n{"
        ).encode()
        answer = _raw(server.port, head)
        assert _status(answer).startswith("HTTP/1.1 413"), answer[:300]
        assert b"10,485,760" in answer


def test_dev_refuses_chunked_with_a_content_length_too() -> None:
    """A request with both Transfer-Encoding and Content-Length was read by its
    Content-Length (the chunk lines taken for JSON, refused as invalid JSON by chance);
    which one frames the body is ambiguous (request smuggling), so it is refused 400
    saying so, and nothing is started."""
    with memory_dev_server() as server:
        assert post(server, "/workflows", WORKFLOW)[0] == 201
        body = json.dumps({"run_id": "both-1"}).encode()
        request = _chunked(
            server.port, "/workflows/dev_chunked/runs", [body], extra="Content-Length: 5\r\n"
        )
        answer = _raw(server.port, request)
        assert _status(answer).startswith("HTTP/1.1 400"), answer[:300]
        assert b"Content-Length or Transfer-Encoding, not both" in answer, answer[:300]
        assert get_json(server.url + "/workflows/dev_chunked/runs")[1]["runs"] == []


class _Recording:
    """An ApiClient stand-in that answers {} (raw, as the proxy asks: status, headers,
    body) and keeps each request's body."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.bodies.append(kwargs.get("body"))
        return 200, {"Content-Type": "application/json"}, b"{}"


def test_the_console_forwards_a_chunked_body() -> None:
    """``podium console`` forwarded a chunked POST without its body (None) to the
    deployed API; it forwards the body decoded."""
    client = _Recording()
    body = json.dumps({"run_id": "c-1"}).encode()
    with ConsoleProxy(client, port=0) as proxy:  # type: ignore[arg-type]
        answer = _raw(proxy.port, _chunked(proxy.port, "/workflows/x/runs", [body[:4], body[4:]]))
    assert _status(answer) == "HTTP/1.1 200 OK", answer[:300]
    assert client.bodies == [body]
