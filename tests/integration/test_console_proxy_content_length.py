"""``podium console`` (the local proxy to a deployed API) and a request whose
Content-Length is not a byte count, is over the limit, or comes from another site.
``podium dev`` answered those at once (local/dev_server.py); the console proxy read the
body first, however long, and did not answer some at all."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from podium.cli.console_command import ConsoleProxy


class _NoApi:
    """The proxy must answer these itself: nothing reaches the API."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("forwarded a request the proxy should have refused")


def _answer(port: int, length: str, body: str = "{}", extra: str = "") -> bytes:
    """POST with ``Content-Length: length`` and ``body``; the answer's first bytes
    (empty when the proxy closed without one), or b"" after 3 s of silence."""
    request = (
        f"POST /workflows/x/runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{body}"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(request)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


@pytest.mark.parametrize("length", ["-1", "abc"])
def test_a_content_length_that_is_no_byte_count_is_answered_400(length: str) -> None:
    """``Content-Length: -1`` made the proxy read until the client closed (rfile.read(-1)):
    the request hung with no answer; ``Content-Length: abc`` raised ValueError in the
    handler thread (a traceback on the terminal) and closed the connection unanswered.
    Both get a 400 naming the header now, as podium dev answers them."""
    with ConsoleProxy(_NoApi(), port=0) as proxy:  # type: ignore[arg-type]
        answer = _answer(proxy.port, length)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Content-Length" in answer


def test_a_body_over_the_limit_is_refused_413_unread() -> None:
    """The proxy had no limit on a body: ``Content-Length: 20000000`` was read (and
    waited for) whole before anything was decided. It is refused 413 at once, with
    podium dev's limit (10 MiB, API Gateway's)."""
    with ConsoleProxy(_NoApi(), port=0) as proxy:  # type: ignore[arg-type]
        answer = _answer(proxy.port, "20000000", body="")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_write_from_another_site_is_refused_before_its_body_is_read() -> None:
    """A POST from another origin was refused only after its body had been read: one
    announcing more bytes than it sent held the request (and a thread) with no answer.
    The origin is checked first and the body is left unread."""
    with ConsoleProxy(_NoApi(), port=0) as proxy:  # type: ignore[arg-type]
        answer = _answer(proxy.port, "1000", body="", extra="Origin: http://evil.example\r\n")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
