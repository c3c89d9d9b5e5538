"""``podium console``: the web console on localhost, over a deployed stack's API.

The console's static files are served from this process; its JSON views
(``/api/console/...``, as ``podium dev`` serves them) and any other API call are
forwarded to the deployed API (``/console/...`` and the same path), each request signed
with SigV4 by ``podium.cli.remote.ApiClient`` with the user's AWS credentials. IAM stays
the only auth: nothing is stored, and the browser never holds a credential.

Because this process signs what it forwards, it answers only requests made to it by name
(``Host`` is its own address, against DNS rebinding) and forwards a write only from its
own page (``Origin`` absent or its own), so another web site cannot use it.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import signal
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from podium.cli.remote import ApiClient, ApiError, RemoteError, connect, resolve_target
from podium.local.http_requests import (
    REFUSAL_CODES,
    BodyRefused,
    answered_as,
    query_parameters,
    read_body,
)
from podium.service.console_files import SECURITY_HEADERS

log = logging.getLogger("podium.console")

STATIC_DIR = Path(__file__).resolve().parent.parent / "console" / "static"
DEFAULT_PORT = 8322  # podium dev has 8321
CONSOLE_PREFIX = "/api/console/"
# A connection that sends nothing for this long is closed (a stalled client held a
# thread, and its socket, for good).
REQUEST_TIMEOUT_S = 60.0
# What a request's headers say of its body, forwarded with it (signed): a gzip body sent
# without its Content-Encoding reads as text that is not UTF-8.
_REQUEST_HEADERS = ("content-type", "content-encoding")
# An answer's headers that are this connection's own, not the API's to pass on.
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "transfer-encoding", "content-length", "date", "server")
)
# The proxy's own refusals, coded as the API codes its errors (docs/operations.md).
_CODES = {**REFUSAL_CODES, 502: "api_unreachable"}


def api_path(path: str) -> str:
    """The deployed API's path for a request to the local console."""
    if path.startswith(CONSOLE_PREFIX):
        return "/console/" + path[len(CONSOLE_PREFIX) :]
    return path


class ConsoleProxy:
    """The console's files on localhost, and its API calls signed and forwarded."""

    def __init__(
        self,
        client: ApiClient,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        static_dir: Path = STATIC_DIR,
    ) -> None:
        self.client = client
        self.static_dir = static_dir.resolve()
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="podium-console-http", daemon=True
        )
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ConsoleProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ConsoleProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def request_stop(self) -> None:
        self._stop.set()

    def serve_forever(self) -> None:
        """Block until Ctrl-C or ``request_stop``, then stop."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # requests --------------------------------------------------------------------------
    def allowed(self, method: str, headers: dict[str, str]) -> str | None:
        """Why a request is refused, or None."""
        from podium.local.same_origin import refusal

        return refusal(method, headers, port=self.port)

    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Sign and send one request to the deployed API, whatever its method (the API
        answers one it does not take: 405 naming those it does, 404 no_route); its answer
        as it came: status, headers (Allow, Retry-After ...) and body (an error's code
        and request id, a 409's current state)."""
        path, _, raw_query = target.partition("?")
        # What API Gateway would give the API for the same query (podium dev too): a
        # blank value kept, a repeated name's values joined (status=FAILED,TIMED_OUT).
        query = query_parameters(raw_query)
        sent = {k: v for k, v in headers.items() if k.lower() in _REQUEST_HEADERS and body}
        try:
            status, answer, payload = self.client.request(
                method, api_path(path), query=query, body=body or None, headers=sent, raw=True
            )
        except ApiError as exc:  # the API was not reached
            return 502, _JSON_HEADERS, json.dumps(error_body(502, exc.message)).encode()
        kept = {k: v for k, v in answer.items() if k.lower() not in _HOP_BY_HOP}
        return int(status), kept, payload

    def static_file(self, path: str) -> tuple[int, str, bytes]:
        name = "index.html" if path in ("/", "/index.html") else path[len("/static/") :]
        name = urllib.parse.unquote(name)
        if "\x00" in name:  # resolve() raises on it: the request went unanswered
            return 404, "text/plain; charset=utf-8", b"not found"
        target = (self.static_dir / name).resolve()
        if not target.is_relative_to(self.static_dir) or not target.is_file():
            return 404, "text/plain; charset=utf-8", b"not found"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        return 200, kind, target.read_bytes()


_JSON_HEADERS = {"Content-Type": "application/json"}


def error_body(status: int, message: str) -> dict[str, Any]:
    """A refusal of the proxy's own, as the API words its errors: a code, the message,
    no places, and a request id (this process's own: the API never saw it)."""
    return {
        "code": _CODES.get(status, "invalid_request"),
        "message": message,
        "errors": [],
        "request_id": f"local-{uuid.uuid4().hex[:12]}",
    }


def _handler_for(proxy: ConsoleProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "podium-console"
        protocol_version = "HTTP/1.1"
        timeout = REQUEST_TIMEOUT_S  # per socket operation (socketserver sets it)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            # JSON answers at least nosniff and no caching; the given ones over them.
            merged = {
                k.lower(): (k, v)
                for k, v in {
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                    **headers,
                }.items()
            }
            for name, value in merged.values():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _refuse(self, status: int, message: str) -> None:
            self.close_connection = True  # a body it did not read may follow
            payload = json.dumps(error_body(status, message)).encode()
            self._send(status, _JSON_HEADERS, payload)

        def _serve(self) -> None:
            headers = dict(self.headers.items())
            refused = proxy.allowed(self.command, headers)
            if refused:  # before the body: another site's write is not even read
                self._refuse(403, refused)
                return
            try:  # Content-Length or chunked, within podium dev's limit
                body = read_body(self.headers, self.rfile)
            except BodyRefused as exc:
                self._refuse(int(exc.status), exc.message)
                return
            except TimeoutError:  # the body stopped coming
                self._refuse(408, f"the body did not come within {self.timeout:g}s; send it whole")
                return
            path = self.path.partition("?")[0]
            if self.command in ("GET", "HEAD") and (
                path in ("/", "/index.html") or path.startswith("/static/")
            ):
                status, kind, payload = proxy.static_file(path)
                # The page and its scripts carry the deployed console's headers (a
                # strict CSP: no inline script runs).
                self._send(status, {"Content-Type": kind, **SECURITY_HEADERS}, payload)
                return
            # HEAD as GET (the API routes no HEAD), sent back without the body.
            self._send(*proxy.forward(answered_as(self.command), self.path, headers, body))

        # Every method the deployed API's $default route takes goes on to it.
        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler


def open_console(client: ApiClient, *, port: int = DEFAULT_PORT) -> ConsoleProxy:
    """Check that the API answers the console's views, then make the proxy (not started)."""
    try:
        client.get("/console/workflows")
    except ApiError as exc:
        if exc.status == 404:
            raise ApiError(
                exc.status,
                exc.message,
                exc.issues,
                "the stack has no console routes yet: deploy this version of Podium",
            ) from None
        raise
    return ConsoleProxy(client, port=port)


def console_command(
    stack: Annotated[
        str | None,
        typer.Option("--stack", help="CloudFormation stack whose ApiUrl output is the API."),
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="The API's URL; skips the stack lookup.")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="A profile in ~/.config/podium/config.toml."),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="The stack's region.")] = None,
    aws_profile: Annotated[
        str | None, typer.Option("--aws-profile", help="AWS profile for the credentials.")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = DEFAULT_PORT,
) -> None:
    """Serve the web console on localhost over a deployed stack, signing its API calls
    with your AWS credentials."""
    err = Console(stderr=True, soft_wrap=True, emoji=False)
    try:
        client = connect(
            resolve_target(
                stack=stack,
                endpoint=endpoint,
                profile=profile,
                region=region,
                aws_profile=aws_profile,
            )
        )
        proxy = open_console(client, port=port)
    except RemoteError as exc:
        err.print(Text(f"error: {exc}", style="red"), highlight=False)
        hint = getattr(exc, "hint", "")
        if hint:
            err.print(Text(f"  {hint}", style="yellow"), highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        err.print(Text(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", style="red"))
        raise typer.Exit(2) from None
    err.print(f"[bold]podium console[/bold] on [cyan]{proxy.url}/[/cyan]")
    err.print(f"  API       {client.endpoint}  (signed for {client.region})")
    err.print("  Ctrl-C to stop")
    # Ctrl-C and SIGTERM stop it cleanly whenever they come (as podium dev).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, lambda *_: proxy.request_stop())
    proxy.serve_forever()
