"""An http step's auth secret never reaches the step's error (stored on the step item
and the timeline, shown by the API, the console and ``podium runs show``, published on
the bus with the step's status).

What was wrong: the headers were checked before the auth header was added, so a secret
value with a trailing newline (a token saved from a file, ``echo`` into Secrets Manager
or an env var) reached http.client, which refused it with ``ValueError: Invalid header
value b'Bearer <the secret>\\n'``, and ``service/runtimes/http.py`` copied that message,
secret included, into the step's error. Now the auth header's value is checked once the
secret is in it, and refused with a message naming only the header and the secret's
name; no ValueError's text from http.client is copied into an error any more; and the
secret's value is taken out of a failed call's error (a service may quote the
credentials it refused in its error body).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import MappedSecrets, StdlibHttpTransport
from podium.core.engine.records import StepRecord
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime

SECRET = "tok-9f2c1e7a55d04b1b"


class _Ok(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        if self.path == "/echo":  # a service that quotes the credentials it refused
            said = f"invalid credentials: {self.headers.get('authorization')}".encode()
            self.send_response(401)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(said)))
            self.end_headers()
            self.wfile.write(said)
            return
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def run_authed_get(url: str, stored: str, name: str = "call") -> tuple[StepRecord, str]:
    """Runs a workflow ``name`` of one http step GETting ``url`` with the secret
    ``api/token`` (its stored value ``stored``) as its auth; gives the step and the
    run's events (their repr), read before the runtime closes."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.services.http = HttpAccess(
            StdlibHttpTransport(), frozenset({"127.0.0.1"}), MappedSecrets({"api/token": stored})
        )
        view = rt.run(
            {
                "name": name,
                "steps": [{"id": "c", "type": "http", "url": url, "auth": {"secret": "api/token"}}],
            }
        )
        return view.steps[0], repr(rt.services.store.list_events(view.run.run_id))


@pytest.mark.parametrize("stored", [SECRET + "\n", SECRET + "\r\n", SECRET + "\u2019"])
def test_a_secret_http_cannot_send_is_not_written_into_the_step_error(
    server: str, stored: str
) -> None:
    step, events = run_authed_get(server + "/ok", stored, "call")
    assert step.status.value == "FAILED"  # the header cannot be sent: fine
    seen = repr(step.error) + events
    assert SECRET not in seen, seen
    # What is said names the header and the secret, so it can be fixed.
    assert step.error is not None
    assert "'api/token'" in repr(step.error) and "'authorization'" in repr(step.error)


def test_a_secret_a_service_echoes_in_its_error_body_is_not_written_into_the_error(
    server: str,
) -> None:
    step, events = run_authed_get(server + "/echo", SECRET, "echo")
    assert step.status.value == "FAILED"  # 401: not retried
    seen = repr(step.error) + events
    assert SECRET not in seen, seen
    assert "HTTP 401" in repr(step.error) and "<secret 'api/token'>" in repr(step.error)
