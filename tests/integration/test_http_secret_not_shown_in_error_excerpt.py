"""An http step's failed response is quoted in the step's error (its first 500
characters). The auth secret's value was replaced only after that cut
(service/runtimes/http.py ``_without_secret``, after core/engine/http_rules.py
``judge``), so a secret straddling the 500th character was shown in part."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.core.engine.http_rules import judge
from tests.integration.test_http_secret_never_in_step_error import run_authed_get

SECRET = "sk-live-3f9a1c2e7b5d4a60b8e2c1d9f0a7b6c5"


class _Echo(BaseHTTPRequestHandler):
    """A 401 whose body quotes the credentials it refused, after a long explanation
    (an API gateway's error document): the secret straddles the 500th character."""

    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        lead = "invalid credentials; " + "see https://docs.example.com/auth " * 20
        lead = lead[: 500 - len("Bearer ") - 20]  # 20 characters of the secret fit
        said = f"{lead}Bearer {self.headers.get('authorization', '').removeprefix('Bearer ')}"
        body = said.encode()
        self.send_response(401)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_secret_cut_by_the_error_excerpt_is_not_shown_in_part(server: str) -> None:
    """A service answered 401 quoting the Authorization it refused, late in a long
    body: the step's error (stored, shown by the console and ``podium runs show``,
    published on the bus) was the body's first 500 characters, which ended inside the
    secret. The secret was replaced only when it was there whole, so its first 20
    characters were shown. Now it is taken out before the excerpt is cut."""
    step, events = run_authed_get(server + "/x", SECRET, "echo")
    assert step.status.value == "FAILED" and "HTTP 401" in (step.error or "")
    seen = (step.error or "") + events
    shown = [SECRET[:n] for n in range(12, len(SECRET) + 1) if SECRET[:n] in seen]
    assert not shown, f"the secret's first {len(shown[-1])} characters are in the error"


def test_judge_takes_secrets_out_before_the_cut() -> None:
    """``judge`` cut the body, then the runtime looked for the secret in what was left;
    now it is given the secrets, and the body and a redirect's location lose them
    before their excerpts are cut (the JSON-escaped form of a value too)."""
    body = "x" * 490 + "token=" + SECRET
    error = judge(401, body, {}, None, [("api/token", SECRET)])
    assert error is not None and SECRET[:8] not in error.message, error
    # Quoted as JSON, a value ending in "é" is "...\\u00e9": not the value as sent.
    quoted = {"note": "é" * 60, "echo": "Bearer " + SECRET + "é"}
    error = judge(403, quoted, {}, None, [("t", SECRET + "é")])
    assert error is not None and SECRET[:8] not in error.message, error.message
    assert "<secret 't'>" in error.message, error.message
    location = "https://login.example.com/?" + "a" * 490 + "&key=" + SECRET
    error = judge(302, None, {"location": location}, None, [("api/token", SECRET)])
    assert error is not None and SECRET[:8] not in error.message, error.message
