"""The http step (runtimes/http.py, adapters/http_transport.py, core/engine/http_rules.py)
against a local http.server: the edge cases of bodies (charsets, a BOM, bare JSON
scalars), URLs (spaces, characters outside ASCII: percent-encoded), headers (refused
naming the header), the read timeout over trickled headers, and the IPv6 loopback.
Found by a review; each test failed before its fix."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import StdlibHttpTransport
from podium.core.engine.status import StepStatus
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime

SEEN: list[str] = []
IDEMPOTENCY_KEYS: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def _reply(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def do_GET(self) -> None:
        SEEN.append(self.path)
        IDEMPOTENCY_KEYS.append(self.headers.get("idempotency-key", ""))
        if self.path == "/latin1":
            self._reply("café".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif self.path == "/bom":
            self._reply(b'\xef\xbb\xbf{"rows": 3}', "application/json")
        elif self.path == "/number":
            self._reply(b"42", "text/plain")
        elif self.path == "/trickle":
            # The status line at once, then one header line every 0.25 s for 3 s.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for i in range(12):
                    time.sleep(0.25)
                    self.wfile.write(f"x-pad-{i}: a\r\n".encode())
                self.wfile.write(b"content-type: application/json\r\n")
                self.wfile.write(b"content-length: 2\r\n\r\n{}")
            self.close_connection = True
        elif self.path == "/cookies":
            self.send_response(200)
            self.send_header("set-cookie", "a=1; Path=/")
            self.send_header("Set-Cookie", "b=2; Path=/")
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        else:
            self._reply(b'{"ok": true}', "application/json")


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    for port in _serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler)):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    SEEN.clear()
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.services.http = HttpAccess(StdlibHttpTransport(), frozenset({"127.0.0.1"}), None)
        yield runtime


def call(rt: LocalRuntime, url: str, name: str = "call", **step: Any) -> Any:
    view = rt.run({"name": name, "steps": [{"id": "c", "type": "http", "url": url, **step}]})
    return view.run, view.steps[0]


# ---- bodies ---------------------------------------------------------------------------


def test_a_body_in_its_declared_charset_is_decoded_with_that_charset(
    rt: LocalRuntime, server: str
) -> None:
    """parse_body (http_rules.py:67) always decodes as UTF-8 with errors="replace",
    ignoring the response's ``charset``: a ``text/plain; charset=iso-8859-1`` body
    "café" becomes the output "caf\\ufffd" (data silently lost). Right: decode with the
    charset the Content-Type declares (UTF-8 when none), so the output is "café"."""
    _run, step = call(rt, server + "/latin1")
    assert step.status is StepStatus.SUCCEEDED
    assert step.output == "café"


def test_a_json_body_with_a_utf8_bom_is_parsed_as_json(rt: LocalRuntime, server: str) -> None:
    """an ``application/json`` body that starts with a UTF-8 byte-order mark (as
    many .NET / Windows services send) is not parsed: parse_body decodes it with
    "utf-8" (keeping U+FEFF), json.loads refuses the BOM, and the step's output is the
    string '\\ufeff{"rows": 3}' instead of {"rows": 3}; ``success:`` expressions over
    ``response.body.rows`` then fail. Right: decode with "utf-8-sig" (drop a BOM)."""
    _run, step = call(rt, server + "/bom")
    assert step.status is StepStatus.SUCCEEDED
    assert step.output == {"rows": 3}


def test_a_bare_json_scalar_body_is_parsed_whatever_the_content_type(
    rt: LocalRuntime, server: str
) -> None:
    """docs/workflow-language.md (HTTP) says the output is "the response body parsed
    as JSON (its text when it is not JSON)", and parse_body's own docstring says "JSON
    when it parses as JSON (whatever the content type says)"; but without a JSON
    content type only bodies starting with { [ or " are tried (http_rules.py:68), so a
    body ``42`` served as text/plain is the string "42". Right: try json.loads on any
    body (or document that scalars need a JSON content type)."""
    _run, step = call(rt, server + "/number")
    assert step.status is StepStatus.SUCCEEDED
    assert step.output == 42


# ---- URLs and headers that http.client refuses ----------------------------------------


def test_a_url_with_a_space_is_sent_percent_encoded(rt: LocalRuntime, server: str) -> None:
    """A rendered URL with a raw space (``/tables/${params.table}`` with "my table") was
    refused by http.client (InvalidURL), reported as a retryable protocol error: the
    step was tried 3 times for a request that could never be sent. Now the path is
    percent-encoded as requests and browsers do, and the call is made once."""
    SEEN.clear()
    _run, step = call(rt, server + "/tables/my table")
    assert step.status is StepStatus.SUCCEEDED, step.error
    assert SEEN == ["/tables/my%20table"]


def test_a_url_with_non_ascii_characters_is_sent_percent_encoded(
    rt: LocalRuntime, server: str
) -> None:
    """A path with a character outside ASCII (``/tables/café``) made http.client raise
    UnicodeEncodeError past the runtime: the attempt never ended (the step stayed
    RUNNING). Now it is percent-encoded (UTF-8), and an escape already made is kept."""
    SEEN.clear()
    _run, step = call(rt, server + "/tables/café?q=a%20b")
    assert step.status is StepStatus.SUCCEEDED, step.error
    assert SEEN == ["/tables/caf%C3%A9?q=a%20b"]


@pytest.mark.parametrize(
    "value", ["a\r\nX-Injected: 1", "caf\u00e9 \u2603"], ids=["crlf", "not-latin-1"]
)
def test_a_header_value_http_client_refuses_ends_the_step_naming_the_header(
    rt: LocalRuntime, server: str, value: str
) -> None:
    """a header whose rendered value holds CR/LF (ValueError "Invalid header
    value") or a character outside Latin-1 (UnicodeEncodeError) makes http.client raise
    past StdlibHttpTransport.send (it catches only TimeoutError, HTTPException and
    OSError, http_transport.py:57) and past HttpRuntime.start: the attempt never ends
    (the step stays RUNNING; deployed, the sweeper retries it as a lost worker with a
    message that hides the cause). Right: check the rendered headers before sending
    and fail the step, not retried, naming the header ("headers.X-A: ...")."""
    run, step = call(rt, server + "/ok", headers={"X-A": value})
    assert step.status is StepStatus.FAILED, f"step {step.status.value}, run {run.status.value}"
    assert step.attempt == 1
    assert "x-a" in (step.error or "").lower()


# ---- the read timeout ------------------------------------------------------------------


def test_the_read_timeout_bounds_a_server_trickling_its_headers(
    rt: LocalRuntime, server: str
) -> None:
    """docs say read_timeout bounds "the whole response", but the transport's
    deadline (http_transport.py:45) is checked only while reading the body (_read);
    conn.getresponse() reads the status line and headers with the per-recv socket
    timeout alone, so a server sending one header line every 0.25 s holds the worker
    for as long as it likes (here 3 s, with read_timeout 0.5 s; up to 100 headers of
    64 KiB, byte by byte, in the worst case: hours, past the Lambda's own limit, which
    then reads as a lost worker) and only then fails with the read timeout. Right: the
    whole exchange, headers included, ends at the read timeout (Podium.HttpError
    "no complete response within the read timeout of 0.5 s"), about 0.5 s in."""
    started = time.monotonic()
    _run, step = call(rt, server + "/trickle", read_timeout=0.5, retries=0)
    elapsed = time.monotonic() - started
    assert step.status is StepStatus.FAILED
    assert elapsed < 2.0, f"the worker was held {elapsed:.1f} s by a 0.5 s read timeout"
    assert "read timeout" in (step.error or "")


# ---- the loopback allow-list -------------------------------------------------------------


def test_the_ipv6_loopback_is_allowed_locally() -> None:
    """locally loopback is allowed "(localhost, 127.0.0.1, ::1)" (docs, HTTP;
    stand_ins.LOOPBACK_HOSTS), but host_allowed (http_rules.py:41) splits each entry at
    its first ':' as host:port, so the entry "::1" becomes host "" and port ":1" and
    never matches: http://[::1]:PORT/ is refused with Podium.HttpHostNotAllowed. (The
    same makes any IPv6 address impossible to list in http_hosts / allowed_hosts.)
    Right: read an entry as an IPv6 address when it has more than one ':' (and
    "[addr]:port" with brackets), so ::1 is allowed."""
    v6 = V6Server(("::1", 0), Handler)
    for port in _serve(v6):
        with LocalRuntime(store="memory", clock=ManualClock()) as runtime:  # default wiring
            _run, step = call(runtime, f"http://[::1]:{port}/ok")
        assert step.error_type != "Podium.HttpHostNotAllowed", step.error
        assert step.status is StepStatus.SUCCEEDED
        assert step.output == {"ok": True}


def test_the_steps_timeout_bounds_the_connect_timeout_too(rt: LocalRuntime, server: str) -> None:
    """The step's ``timeout`` capped the read timeout only: one attempt could wait its
    whole ``connect_timeout`` (up to minutes) past the step's own timeout."""
    seen: list[tuple[float, float]] = []
    access = rt.services.http
    assert access is not None
    real = access.transport

    class Watching:
        def send(self, call: Any) -> Any:
            seen.append((call.connect_timeout, call.read_timeout))
            return real.send(call)

    rt.services.http = dataclasses.replace(access, transport=Watching())
    _run, step = call(rt, server + "/ok", timeout=2, connect_timeout=30, read_timeout=60)
    assert step.status is StepStatus.SUCCEEDED
    assert seen == [(2.0, 2.0)]


# ---- response headers and the idempotency key -------------------------------------------


def test_a_response_header_sent_twice_keeps_both_values(rt: LocalRuntime, server: str) -> None:
    """response headers were read into a dict, so a header sent twice (two
    ``Set-Cookie``, two ``Link``) kept only the last value and a ``success:`` over it
    saw half the answer. Now every value is kept, joined by ", " in the order received
    (as a fetch ``Headers.get`` gives them)."""
    _run, step = call(
        rt,
        server + "/cookies",
        success="response.headers['set-cookie'] == 'a=1; Path=/, b=2; Path=/'",
        retries=0,
    )
    assert step.status is StepStatus.SUCCEEDED, step.error


def test_a_step_header_idempotency_key_replaces_podiums(rt: LocalRuntime, server: str) -> None:
    """Every request carries ``Idempotency-Key: run/step/attempt`` unless the step's
    own headers set one (docs: HTTP): the user's is sent, not both. A control for the
    documented rule (it passed before; the docs said nothing of it)."""
    IDEMPOTENCY_KEYS.clear()
    run, step = call(rt, server + "/ok")
    assert step.status is StepStatus.SUCCEEDED
    assert list(IDEMPOTENCY_KEYS) == [f"{run.run_id}/c/1"]
    IDEMPOTENCY_KEYS.clear()
    _run, step = call(rt, server + "/ok", headers={"Idempotency-Key": "order-7"})
    assert list(IDEMPOTENCY_KEYS) == ["order-7"]
