"""Replies without a body (HEAD, 204, 304): their Content-Length, the size of the
resource, must not trip the step's max_response_bytes (a local http.server)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import StdlibHttpTransport
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime

BIG = str(5 * 1024 * 1024)  # a 5 MiB file: over the default cap of 1 MiB


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def _headers_only(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", BIG)
        self.end_headers()

    def do_HEAD(self) -> None:
        self._headers_only(200)

    def do_GET(self) -> None:
        self._headers_only(304 if self.path == "/not-modified" else 200)

    def do_PUT(self) -> None:
        self._headers_only(204)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("method", "path", "success"),
    [
        ("HEAD", "/exports/2026-12-01.parquet", None),
        ("PUT", "/flag", None),
        ("GET", "/not-modified", "response.status == 304"),
    ],
)
def test_a_reply_without_a_body_succeeds_whatever_its_length(
    server: str, method: str, path: str, success: str | None
) -> None:
    step: dict[str, Any] = {"id": "c", "type": "http", "method": method, "url": server + path}
    if success is not None:
        step["success"] = success
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.services.http = HttpAccess(StdlibHttpTransport(), frozenset({"127.0.0.1"}), None)
        view = rt.run({"name": "h", "steps": [step]})
    assert view.steps[0].status.value == "SUCCEEDED", view.steps[0].error
