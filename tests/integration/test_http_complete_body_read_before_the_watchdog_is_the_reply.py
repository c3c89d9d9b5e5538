"""The http step's transport (adapters/http_transport.StdlibHttpTransport): once the
body was read whole, the read-timeout watchdog firing before ``cut.cancel()`` (a
thread switch, a GC pause between the end of ``_read`` and the cancel) made the
complete response a ``timeout``: the check meant for a body without a length, which
ends where the socket was shut, was applied to every one."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters import http_transport
from podium.adapters.http_transport import StdlibHttpTransport
from podium.core.ports import HttpCall, HttpTransportError
from tests.integration.test_http_read_timeout_bounds_the_body import serve

BODY = b'{"state": "DONE"}'
READ_TIMEOUT = 0.3


@pytest.fixture
def server() -> Iterator[int]:
    """Answers every request at once, whole, with its Content-Length (keep-alive)."""

    def answer(conn: socket.socket, _stop: threading.Event) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(BODY)}\r\n\r\n".encode()
            + BODY
        )
        conn.recv(65536)  # the client's close

    yield from serve(answer)


def test_a_body_read_whole_before_the_watchdog_fired_is_the_reply(
    server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole body (all its Content-Length) was read in time; the worker thread is
    then held up until the watchdog's timer has fired (as a thread switch can). The step
    failed with "timeout: no complete response within the read timeout" though the
    server answered 200 in full; the reply it read should be returned."""
    real_read = http_transport._read

    def read_then_stall(*args: Any) -> tuple[bytes, bool]:
        got = real_read(*args)
        time.sleep(READ_TIMEOUT + 0.3)  # the timer fires now, before cut.cancel()
        return got

    monkeypatch.setattr(http_transport, "_read", read_then_stall)
    call = HttpCall("GET", "http", "127.0.0.1", server, "/", {}, None, 5.0, READ_TIMEOUT, 1 << 20)
    try:
        reply = StdlibHttpTransport().send(call)
    except HttpTransportError as exc:
        pytest.fail(f"a complete response was reported as {exc.kind}: {exc}")
    assert (reply.status, reply.body) == (200, BODY)
