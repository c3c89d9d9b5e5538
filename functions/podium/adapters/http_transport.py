"""The http step's transport (http.client: no redirects followed, so the allow-list
cannot be walked around), and its secrets (Secrets Manager, cached a few minutes)."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from typing import Any

from podium.adapters.jobs.aws_errors import code_of, is_api_error, is_transient_error
from podium.core.ports import HttpCall, HttpReply, HttpTransportError, SecretNotFound
from podium.core.text_checks import is_ascii_digits

READ_CHUNK = 64 * 1024


class StdlibHttpTransport:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls or ssl.create_default_context()

    def send(self, call: HttpCall) -> HttpReply:
        conn: http.client.HTTPConnection
        if call.scheme == "https":
            conn = http.client.HTTPSConnection(
                call.host, call.port, timeout=call.connect_timeout, context=self._tls
            )
        else:
            conn = http.client.HTTPConnection(call.host, call.port, timeout=call.connect_timeout)
        try:
            try:
                conn.connect()
            except TimeoutError as exc:
                raise HttpTransportError(
                    "timeout",
                    f"no connection to {call.host}:{call.port} within {call.connect_timeout:g} s",
                ) from exc
            except ssl.SSLError as exc:
                raise HttpTransportError("tls", str(exc)) from exc
            except OSError as exc:
                raise HttpTransportError(
                    "connect", f"cannot connect to {call.host}:{call.port}: {exc}"
                ) from exc
            deadline = time.monotonic() + call.read_timeout
            assert conn.sock is not None
            conn.sock.settimeout(call.read_timeout)
            # The socket's timeout bounds each receive, not the whole: a server trickling
            # its status line, headers or body is cut off at the deadline by shutting the
            # socket down under it.
            cut = _Watchdog(conn.sock, call.read_timeout)
            timed_out = HttpTransportError(
                "timeout",
                f"no complete response within the read timeout of {call.read_timeout:g} s",
            )
            try:
                conn.request(call.method, call.path, body=call.body, headers=dict(call.headers))
                resp = conn.getresponse()
                body, too_large = _read(resp, call, deadline)
            except (TimeoutError, http.client.HTTPException, OSError, HttpTransportError) as exc:
                # Once the watchdog shut the socket, whatever the read saw (the stream's
                # end, a body cut short) is the read timeout's doing, not the server's.
                if isinstance(exc, TimeoutError) or cut.fired:
                    raise timed_out from exc
                if isinstance(exc, HttpTransportError):
                    raise
                raise HttpTransportError("protocol", f"{type(exc).__name__}: {exc}") from exc
            finally:
                cut.cancel()
            # A body without a length (nor chunks) ends where the connection closes: once
            # the watchdog shut the socket, that end may be its doing. One with a length
            # or chunks, read whole, is the reply even when the timer fired just after.
            close_delimited = resp.getheader("content-length") is None and not resp.chunked
            if cut.fired and close_delimited:
                raise timed_out
            return HttpReply(resp.status, joined_headers(resp.getheaders()), body, too_large)
        finally:
            conn.close()


class _Watchdog:
    """Shuts a socket down once ``seconds`` have passed (unless cancelled first): a
    receive blocked on it returns at once, and ``fired`` says why.

    It keeps the socket itself, not the connection: with ``connection: close`` (or a
    body delimited by the connection's end) ``getresponse`` drops the connection's
    socket and the response reads on through its own file, so a watchdog looking at
    ``conn.sock`` had nothing to shut and a stalled body held the worker for about twice
    the read timeout."""

    def __init__(self, sock: socket.socket | None, seconds: float) -> None:
        self.fired = False
        self._sock = sock
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


# Statuses whose response has no body (RFC 9110 6.4.1), whatever Content-Length says.
_NO_BODY_STATUSES = frozenset({204, 304})


def _has_body(method: str, status: int) -> bool:
    """A HEAD reply's Content-Length is the size of the resource, not of a body: it has
    none, nor has a 1xx, 204 or 304; their length must not trip the size cap."""
    return method.upper() != "HEAD" and status >= 200 and status not in _NO_BODY_STATUSES


def _read(resp: http.client.HTTPResponse, call: HttpCall, deadline: float) -> tuple[bytes, bool]:
    """The body, at most ``max_bytes`` (one byte more says it is too large), within the
    read timeout as a whole (a server trickling bytes cannot hold the worker). A body
    shorter than its Content-Length raises HttpTransportError ("protocol")."""
    if not _has_body(call.method, resp.status):
        return b"", False
    length = resp.getheader("content-length")
    if length is not None and is_ascii_digits(length) and int(length) > call.max_bytes:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = resp.read1(READ_CHUNK) if hasattr(resp, "read1") else resp.read(READ_CHUNK)
        if not chunk:
            # The stream ended: http.client counts down what Content-Length announced,
            # and raises nothing (read1, read(n)) for a body the server cut short.
            missing = getattr(resp, "length", None)
            if isinstance(missing, int) and missing > 0:
                raise HttpTransportError(
                    "protocol", f"response cut short: {size} of {size + missing} bytes"
                )
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > call.max_bytes:
            return b"".join(chunks)[: call.max_bytes], True


class SecretsManagerSecrets:
    """GetSecretValue by name, cached for ``ttl_seconds`` (a rotated secret is picked up
    within that time). A refusal for good (any error but throttling, a 5xx or a lost
    answer) is SecretNotFound, naming the secret and Secrets Manager's code; the rest is
    raised as it is (the runtime makes it a retryable platform error)."""

    def __init__(self, client: Any, ttl_seconds: float = 300) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> str:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(name)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            resp = self._client.get_secret_value(SecretId=name)
        except Exception as exc:
            if not is_api_error(exc) or is_transient_error(exc):
                # Throttled, Secrets Manager's own fault, no answer (or a bug of ours):
                # the runtime fails the attempt as a platform error, asked again later.
                raise
            # Refused for good: not there, access or its KMS key denied, scheduled for
            # deletion (InvalidRequestException), a bad name. Its message names the
            # secret at most, never its value.
            code, message = code_of(exc)
            raise SecretNotFound(
                f"secret '{name}': Secrets Manager refused it ({code or type(exc).__name__}:"
                f" {message[:300]})"
            ) from None
        value = resp.get("SecretString")
        if value is None:
            raise SecretNotFound(f"secret '{name}' holds binary data, not a string")
        with self._lock:
            self._cache[name] = (now, str(value))
        return str(value)


class MappedSecrets:
    """Local secrets: values given to the embedded runtime (podium.toml's [secrets],
    resolved from the environment by bootstrap). ``mapped`` is the [secrets] table itself
    (name -> "env:VARIABLE"): a secret mapped to a variable that is not set is told apart
    from one not mapped at all."""

    def __init__(self, values: dict[str, str], mapped: dict[str, str] | None = None) -> None:
        self._values = dict(values)
        self._mapped = dict(mapped or {})

    def get(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        source = self._mapped.get(name)
        if source is not None:
            raise SecretNotFound(
                f"secret '{name}' reads {source}, which is not set in this environment:"
                f" export {source.removeprefix('env:')} where podium runs"
            )
        # The line as it goes under [secrets]: the key quoted (a JSON string is a TOML
        # basic string), since a name like warehouse/token is not a bare TOML key.
        key = json.dumps(name, ensure_ascii=False)
        raise SecretNotFound(
            f"secret '{name}' has no local value; map it in podium.toml:"
            f' [secrets] {key} = "env:VARIABLE"'
        )


class MappedHttpTransport:
    """Locally, a Python callable may answer for a host (podium.toml's [http.map]): it
    gets ``{method, url, path, headers, body}`` (body parsed as JSON when it is) and
    returns the response body (text, bytes or a JSON value), or ``{"status", "body",
    "headers"}``; an exception is a 500. A status that is not an HTTP status code, or a
    body with no JSON form, is the stand-in's fault: HttpTransportError(STAND_IN).
    Other hosts go to the real transport."""

    def __init__(self, real: Any, mapping: dict[str, str], resolve: Any) -> None:
        self._real = real
        self._mapping = dict(mapping)
        self._resolve = resolve

    def mapped_hosts(self) -> frozenset[str]:
        """The hosts (host[:port]) the map answers for: allowed like listed hosts."""
        hosts = set()
        for origin in self._mapping:
            rest = origin.split("://", 1)[-1].split("/", 1)[0].lower()
            hosts.add(rest)
        return frozenset(hosts)

    def _target(self, call: HttpCall) -> str | None:
        default = 443 if call.scheme == "https" else 80
        port = "" if call.port == default else f":{call.port}"
        for key in (f"{call.scheme}://{call.host}{port}", f"{call.host}{port}", call.host):
            if key in self._mapping:
                return self._mapping[key]
        return None

    def send(self, call: HttpCall) -> HttpReply:
        ref = self._target(call)
        if ref is None:
            return self._real.send(call)  # type: ignore[no-any-return]
        text = call.body.decode(errors="replace") if call.body is not None else None
        try:
            body: Any = json.loads(text) if text else text
        except ValueError:
            body = text
        request = {
            "method": call.method,
            "url": f"{call.scheme}://{call.host}:{call.port}{call.path}",
            "path": call.path,
            "headers": dict(call.headers),
            "body": body,
        }
        try:
            answer = self._resolve(ref)(request)
        except Exception as exc:  # the stand-in failed: as a server error would
            message = f"{type(exc).__name__}: {exc}".encode()
            return HttpReply(500, {"content-type": "text/plain"}, message)
        status, headers = 200, {"content-type": "application/json"}
        if isinstance(answer, dict) and "status" in answer:
            status = _stand_in_status(ref, answer["status"])
            extra = answer.get("headers") or {}
            if not isinstance(extra, dict):
                raise HttpTransportError(
                    STAND_IN,
                    f"the [http.map] stand-in {ref} answered headers of type"
                    f" {type(extra).__name__}: return them as a dict of name to value",
                )
            headers.update({str(k).lower(): str(v) for k, v in extra.items()})
            answer = answer.get("body")
        data = _stand_in_body(ref, answer)
        too_large = len(data) > call.max_bytes
        return HttpReply(status, headers, data[: call.max_bytes], too_large)


# The kind of error for what a stand-in answered that no server could: its own code's
# fault, not retried (runtimes/http.py makes it Podium.ConfigError). Before, bytes or a
# value with no JSON form raised TypeError out of the step (the worker failed and the
# stand-in was called on every redelivery), and a status like "503 Service Unavailable"
# a ValueError read as a request that HTTP cannot carry.
STAND_IN = "stand-in"


def _stand_in_status(ref: str, status: Any) -> int:
    if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599:
        return status
    if isinstance(status, str) and is_ascii_digits(status) and 100 <= int(status) <= 599:
        return int(status)
    raise HttpTransportError(
        STAND_IN,
        f"the [http.map] stand-in {ref} answered status {status!r}, which is not an HTTP"
        " status code: return {'status': 503, 'body': ...} (a number from 100 to 599)",
    )


def _stand_in_body(ref: str, body: Any) -> bytes:
    """The body as sent: text as UTF-8, bytes as they are, anything else as JSON."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    try:
        return json.dumps(body).encode()  # NaN too, as a Python server would send it
    except (TypeError, ValueError) as exc:
        raise HttpTransportError(
            STAND_IN,
            f"the [http.map] stand-in {ref} answered a body of type {type(body).__name__}"
            f" that has no JSON form ({exc}): return str, bytes or a JSON value",
        ) from None


def joined_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Response headers by lower-case name; a name sent more than once (``Set-Cookie``,
    ``Link``, ``Vary``) keeps every value, joined by ", " in the order received, as a
    fetch ``Headers.get`` gives them (a plain dict kept only the last)."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
