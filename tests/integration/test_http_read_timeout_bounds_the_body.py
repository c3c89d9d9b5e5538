"""The http step's transport (adapters/http_transport.StdlibHttpTransport) on a server
that sent its headers in time and then its body too slowly: ``read_timeout`` bounds the
whole response (docs/workflow-language.md), and running past it is a ``timeout``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from podium.adapters.http_transport import StdlibHttpTransport
from podium.core.ports import HttpCall, HttpTransportError

BODY = b'{"rows": [1, 2, 3], "state": "DONE"}'


def serve(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A server on a free local port that reads each connection's request and then calls
    ``answer(conn, stop)`` (``stop`` is set when the test is done); yields the port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                answer(conn, stop)

    threading.Thread(target=run, daemon=True).start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        srv.close()


def _serve(head: bytes, first_body_after: float) -> Iterator[int]:
    """A server that answers ``head`` at once, the body's first bytes after
    ``first_body_after`` seconds, then nothing for 10 s, then the rest."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(head)
        time.sleep(first_body_after)
        try:
            conn.sendall(BODY[:10])
            stop.wait(10)
            conn.sendall(BODY[10:])
        except OSError:
            pass

    yield from serve(answer)


@pytest.fixture
def keep_alive_server() -> Iterator[int]:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(BODY)}\r\n\r\n".encode()
    )
    yield from _serve(head, 0.2)


@pytest.fixture
def close_delimited_server() -> Iterator[int]:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
    yield from _serve(head, 1.5)


def _call(port: int, read_timeout: float) -> HttpCall:
    return HttpCall("GET", "http", "127.0.0.1", port, "/rows", {}, None, 5.0, read_timeout, 1 << 20)


def test_a_body_slower_than_the_read_timeout_was_a_timeout(keep_alive_server: int) -> None:
    """A keep-alive response (Content-Length, no 'connection: close') whose body stalled
    past read_timeout failed as 'protocol: response cut short: 10 of 36 bytes': the
    watchdog shut the socket down, the read saw the stream's end, and the error said the
    server dropped the connection. It was a 'timeout' naming the read timeout."""
    with pytest.raises(HttpTransportError) as raised:
        StdlibHttpTransport().send(_call(keep_alive_server, 1.0))
    assert raised.value.kind == "timeout", f"{raised.value.kind}: {raised.value}"
    assert "read timeout of 1 s" in str(raised.value)


def test_a_close_delimited_body_was_bounded_by_the_read_timeout(
    close_delimited_server: int,
) -> None:
    """With 'connection: close', http.client drops the connection's socket once the
    headers are read (the response keeps its file), so the watchdog had nothing to shut
    and only the socket's per-receive timeout applied: a body whose first bytes came
    just before the read timeout and then stalled held the worker for about twice the
    read_timeout (2 s: ~3.5 s; at the maximum 900 s, past a work Lambda's 15 minutes).
    The whole response was bounded by read_timeout, and a timeout (not the part read
    before the socket was shut, passed off as the whole body)."""
    began = time.monotonic()
    with pytest.raises(HttpTransportError) as raised:
        StdlibHttpTransport().send(_call(close_delimited_server, 2.0))
    took = time.monotonic() - began
    assert raised.value.kind == "timeout", raised.value
    assert took < 2.6, f"the call took {took:.1f} s with a read_timeout of 2 s"
