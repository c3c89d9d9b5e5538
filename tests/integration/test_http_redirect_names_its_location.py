"""An http step answered with a redirect failed as a bare "HTTP 301", retried twice,
without saying where the service sent it.

docs/workflow-language.md (HTTP): "Redirects are not followed" (on purpose: the
allow-list cannot be walked around). But core/engine/http_rules.judge built the error
from the status and a body excerpt only: a redirect's body is usually empty (or an HTML
"Moved"), so the error read "HTTP 301: null" (after two retries 5 s and 10 s apart, which
were redirected again), and the one fact the user needs to fix the step, the
``Location`` the service pointed to (an ``http://`` URL moved to ``https://``, a trailing
slash, a new API host), was dropped.

Expected: a 3xx error names its Location and says that redirects are not followed
(write that URL in the step; add its host to the allow-list if it is another host); it
is not retried (asking again is redirected again).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import StdlibHttpTransport
from podium.core.engine.status import StepStatus
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime

MOVED_TO = "https://api.example.com/v2/tables/sales/refresh"


class Moved(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(301)
        self.send_header("location", MOVED_TO)
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Moved)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_redirect_error_names_where_the_service_pointed(server: str) -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.services.http = HttpAccess(StdlibHttpTransport(), frozenset({"127.0.0.1"}))
        view = rt.run(
            {
                "name": "redirect",
                "steps": [
                    {
                        "id": "refresh",
                        "type": "http",
                        "method": "POST",
                        "url": server + "/tables/sales/refresh",
                        "body": {"mode": "full"},
                    }
                ],
            }
        )
    (step,) = view.steps
    assert step.status is StepStatus.FAILED
    assert step.error_type == "Podium.HttpError"
    # Was: "Podium.HttpError: HTTP 301: null" and nothing else.
    assert MOVED_TO in (step.error or ""), step.error
    assert "not followed" in (step.error or ""), step.error
    assert step.attempt == 1, step.attempt  # was: retried twice, redirected again


def test_an_error_response_without_a_body_does_not_read_null() -> None:
    """judge() quoted the body as ``json.dumps(body)``: an empty body (parsed as None)
    became the text "null", so every empty error reply read "HTTP 503: null" (or
    "HTTP 301: null" above), as if the service had answered the JSON literal null.
    Expected: "HTTP 503" alone."""
    from podium.core.engine.http_rules import judge

    error = judge(503, None, {}, None)
    assert error is not None
    assert error.message == "HTTP 503", error.message  # was: "HTTP 503: null"
