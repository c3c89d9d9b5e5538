"""What both local servers (``podium dev``, ``podium console``) read of a request: its
body and its query, the way API Gateway reads them for the deployed API, and the method
it is answered as (HEAD as GET).

``http.server`` gives a handler the raw connection: it neither decodes a chunked body
nor checks Content-Length. A body not read in full stays on a kept-alive connection and
is parsed as the next request; a length that is no byte count hangs the read or raises.
So the body is read here, whole or refused (the server then answers and closes).
"""

from __future__ import annotations

import re
import urllib.parse
from email.message import Message
from http import HTTPStatus
from io import BufferedIOBase

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's limit on a request
# A local server's own refusals (a request it does not read through), coded as the API
# codes its errors (docs/operations.md).
REFUSAL_CODES = {
    400: "invalid_body",
    403: "forbidden",
    408: "request_timeout",
    413: "body_too_large",
    501: "not_implemented",
}
_LINE_BYTES = 4096  # a chunk-size line or a trailer line
_MAX_TRAILERS = 100
_BYTE_COUNT = re.compile(r"[0-9]{1,18}")  # ASCII digits: int() takes "+5", "1_0", "٣"
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class BodyRefused(Exception):
    """A request whose body cannot be read as sent: its status and why (with the fix)."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def read_body(headers: Message, rfile: BufferedIOBase, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body: ``Content-Length`` bytes, or a ``Transfer-Encoding: chunked``
    body decoded, at most ``limit`` bytes either way. Raises BodyRefused (400, 413, 501)
    before reading more than the limit; the caller answers and closes the connection."""
    codings = [
        c.strip().lower()
        for value in headers.get_all("Transfer-Encoding") or []
        for c in value.split(",")
        if c.strip()
    ]
    lengths = {v.strip() for v in headers.get_all("Content-Length") or []}
    if codings:
        # Both: which one frames the body is the classic request-smuggling ambiguity.
        if lengths:
            raise BodyRefused(
                HTTPStatus.BAD_REQUEST,
                "send Content-Length or Transfer-Encoding, not both",
            )
        if codings[-1] != "chunked":  # RFC 9112 6.3: the length cannot be told
            raise BodyRefused(
                HTTPStatus.BAD_REQUEST,
                f"Transfer-Encoding {', '.join(codings)[:80]!r} does not end in chunked;"
                " send the body with Content-Length or chunked",
            )
        if codings != ["chunked"]:
            raise BodyRefused(
                HTTPStatus.NOT_IMPLEMENTED,
                f"Transfer-Encoding {', '.join(codings)[:80]!r} is not supported; send the"
                " body chunked only (Content-Encoding: gzip compresses it)",
            )
        return _read_chunked(rfile, limit)
    if len(lengths) > 1:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "Content-Length given twice, differently")
    raw = lengths.pop() if lengths else ""
    if not raw:
        return b""
    if not (raw.isascii() and raw.isdigit()):
        raise BodyRefused(
            HTTPStatus.BAD_REQUEST, f"Content-Length {raw[:40]!r} is not a byte count"
        )
    if not _BYTE_COUNT.fullmatch(raw) or int(raw) > limit:
        raise _too_large(limit)
    length = int(raw)
    body = rfile.read(length) if length else b""
    if len(body) < length:  # the client closed early: not the body it announced
        raise BodyRefused(
            HTTPStatus.BAD_REQUEST,
            f"the body ended after {len(body):,} of its {length:,} bytes; send it whole",
        )
    return body


# What a chunked body may carry besides its data, beyond the allowance of each chunk.
NON_DATA_BYTES = 16 * 1024


def _read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    """RFC 9112 7.1: size lines in hex (extensions ignored), each chunk and its CRLF, a
    last chunk of size 0 and the trailer section (read and dropped)."""
    body = bytearray()
    # What is read besides data (size lines, extensions, CRLFs), less an allowance per
    # chunk: past NON_DATA_BYTES a body is refused, as Go's net/http does
    # (CVE-2023-39326): 4 KiB size lines for one-byte chunks would make a 10 MiB body
    # tens of GiB on the wire.
    excess = 0
    while True:
        line = _line(rfile, "a chunk size")
        size_text = line.split(b";", 1)[0].strip(b" \t")
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise _bad_chunk(f"chunk size {size_text[:20]!r} is not hexadecimal")
        size = int(size_text, 16)
        if size == 0:
            break
        excess += len(line) + 4 - min(size, 2**20) * 2 - 16  # its line and two CRLFs
        excess = max(excess, 0)
        if excess > NON_DATA_BYTES:
            raise _bad_chunk("too much besides data (chunk extensions, tiny chunks)")
        if len(body) + size > limit:
            raise _too_large(limit)
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise _bad_chunk("the body ended inside a chunk; send it whole")
        body += chunk
        if _line(rfile, "a chunk's end"):
            raise _bad_chunk("a chunk is longer than its size says")
    for _ in range(_MAX_TRAILERS):
        if not _line(rfile, "a trailer"):
            return bytes(body)
    raise _bad_chunk(f"more than {_MAX_TRAILERS} trailer lines")


def _line(rfile: BufferedIOBase, what: str) -> bytes:
    """One CRLF- (or LF-) ended line, without its ending; refused when it is too long
    or the connection ends first."""
    line = rfile.readline(_LINE_BYTES + 1)
    if not line.endswith(b"\n"):
        cut = "is too long" if len(line) > _LINE_BYTES else "is cut short"
        raise _bad_chunk(f"{what} line {cut}")
    return line.rstrip(b"\r\n")


def _bad_chunk(message: str) -> BodyRefused:
    return BodyRefused(HTTPStatus.BAD_REQUEST, f"chunked body: {message}")


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"a body is at most {limit:,} bytes (content-encoding: gzip compresses it)",
    )


def query_parameters(query: str) -> dict[str, str]:
    """A query string as API Gateway (payload v2) gives it to the api function: a blank
    value kept (``?limit=`` is refused there, not read as absent), a name given twice
    its values joined with commas (``status=FAILED&status=TIMED_OUT``)."""
    parsed = urllib.parse.parse_qs(query, keep_blank_values=True)
    return {name: ",".join(values) for name, values in parsed.items()}


def answered_as(method: str) -> str:
    """The method a request is answered as: HEAD as GET (RFC 9110 9.3.2: wherever GET
    works, with GET's status and headers, Content-Length included, and no body; the
    servers' ``_send`` writes none for HEAD). The deployed API routes no HEAD (its
    answer is a 405); the local servers are what browsers and link checkers reach."""
    return "GET" if method == "HEAD" else method
