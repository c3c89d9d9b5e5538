"""local/http_requests.py ``_read_chunked`` and the bytes it reads that are not body.

The 10 MiB limit counted chunk data only. A chunk-size line may carry up to 4 KiB of
extensions (``1;xxxx...``) for one byte of data, so a client made ``podium dev`` or
``podium console`` read and parse about 4,100 bytes per body byte: some 40 GiB and ten
million size lines before the 413, from one request. Go's net/http refuses such a body
("chunked encoding contains too much non-data", CVE-2023-39326); the reader bounds what
is not data (size lines, extensions, CRLFs) against the data it carries."""

from __future__ import annotations

import http.client
import io
from http import HTTPStatus

import pytest

from podium.local.http_requests import BodyRefused, read_body


def _headers() -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(b"Transfer-Encoding: chunked\r\n\r\n"))


def test_chunk_extensions_many_times_the_data_are_refused() -> None:
    """A user saw a body of 1,000 one-byte chunks, each announced by a 4,000-byte
    size line (4 MB on the wire for 1 KB of data), read in full and accepted; it is
    refused 400 long before, as too much besides data."""
    extension = b";" + b"x" * 4000
    wire = b"".join(b"1" + extension + b"\r\na\r\n" for _ in range(1000)) + b"0\r\n\r\n"
    stream = io.BytesIO(wire)
    with pytest.raises(BodyRefused) as caught:
        read_body(_headers(), stream, limit=10 * 1024 * 1024)
    assert caught.value.status == HTTPStatus.BAD_REQUEST
    assert stream.tell() < len(wire) // 10, f"read {stream.tell():,} of {len(wire):,} bytes"
