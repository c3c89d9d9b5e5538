"""An http step whose response body was cut short (the server or a proxy closed the
connection before sending the Content-Length it announced) succeeded on the part it
got: the transport (adapters/http_transport.py) read with ``read1``, which, unlike
``read``, never raises IncompleteRead."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import StdlibHttpTransport
from podium.core.engine.http_rules import transport_error
from podium.core.ports import HttpAccess, HttpCall, HttpTransportError
from podium.local.runtime import LocalRuntime

WHOLE = json.dumps({"rows": [{"id": i, "name": f"row {i}"} for i in range(200)]}).encode()


class _CutShort(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(WHOLE)))
        self.end_headers()
        self.wfile.write(WHOLE[: len(WHOLE) // 2])  # then the connection drops
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _CutShort)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_body_cut_short_of_its_content_length_is_not_a_success(server: str) -> None:
    """The server answered 200 with Content-Length N and dropped the connection after
    N/2 bytes. The step SUCCEEDED, its output the first half of the JSON as a string
    (it no longer parsed), so the steps below ran on a truncated answer. Now the attempt
    fails as a retryable Podium.HttpError (``protocol``: the response was cut short)."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.services.http = HttpAccess(StdlibHttpTransport(), frozenset({"127.0.0.1"}), None)
        view = rt.run(
            {
                "name": "cut",
                "steps": [{"id": "c", "type": "http", "url": server + "/rows", "retries": 0}],
            }
        )
        step = view.steps[0]
        assert step.status.value == "FAILED", (
            f"{step.status.value} with output {str(step.output)[:60]!r}..."
        )
        assert step.error_type == "Podium.HttpError", step.error
        half = len(WHOLE) // 2
        assert f"protocol: response cut short: {half} of {len(WHOLE)} bytes" in (
            step.error or ""
        ), step.error
        assert view.steps[0].attempt == 1  # retries: 0


def test_a_cut_body_is_retryable(server: str) -> None:
    """The cut-short failure is a transport error, retried like a reset connection."""
    reply_error = None
    try:
        StdlibHttpTransport().send(
            HttpCall(
                "GET",
                "http",
                "127.0.0.1",
                int(server.rsplit(":", 1)[1]),
                "/rows",
                {},
                None,
                5.0,
                5.0,
                10_000_000,
            )
        )
    except HttpTransportError as exc:
        reply_error = exc
    assert reply_error is not None and reply_error.kind == "protocol", reply_error
    assert transport_error(reply_error.kind, str(reply_error)).retryable
