"""``podium console`` and a static file path holding a NUL (``/static/%00``)."""

from __future__ import annotations

import socket
from typing import Any

from podium.cli.console_command import ConsoleProxy


class _NoApi:
    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a static file is not forwarded")


def test_a_nul_in_a_static_path_is_404() -> None:
    """``GET /static/%00`` raised ValueError (embedded null byte) in the proxy's handler
    thread, a traceback on the terminal and the connection closed unanswered; podium dev
    answers it 404, and so does the console now."""
    with ConsoleProxy(_NoApi(), port=0) as proxy:  # type: ignore[arg-type]
        request = f"GET /static/%00 HTTP/1.1\r\nHost: 127.0.0.1:{proxy.port}\r\n\r\n"
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(request.encode())
            answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
