"""How the local servers (``podium dev``, ``podium console``) read a request body
(local/http_requests.py). They read Content-Length only, unchecked in the console: a
chunked body was taken for none, ``-1`` hung the read, ``abc`` raised."""

from __future__ import annotations

import http.client
import io
from http import HTTPStatus

import pytest

from podium.local.http_requests import BodyRefused, query_parameters, read_body


def _read(head: bytes, body: bytes, limit: int = 1000) -> bytes:
    headers = http.client.parse_headers(io.BytesIO(head + b"\r\n"))
    return read_body(headers, io.BytesIO(body), limit)


def _refused(head: bytes, body: bytes = b"", limit: int = 1000) -> BodyRefused:
    with pytest.raises(BodyRefused) as caught:
        _read(head, body, limit)
    return caught.value


def test_a_chunked_body_is_decoded_with_extensions_and_trailers() -> None:
    """Chunk extensions (``;name=value``) and a trailer section are read past."""
    wire = b"4;x=1\r\nWiki\r\n5\r\npedia\r\n0\r\nExpires: never\r\n\r\nNEXT"
    stream = io.BytesIO(wire)
    headers = http.client.parse_headers(io.BytesIO(b"Transfer-Encoding: Chunked\r\n\r\n"))
    assert read_body(headers, stream, 1000) == b"Wikipedia"
    assert stream.read() == b"NEXT"  # the next request starts where the body ended


@pytest.mark.parametrize(
    ("wire", "words"),
    [
        (b"zz\r\nab\r\n0\r\n\r\n", "not hexadecimal"),
        (b"2\r\nabc\r\n0\r\n\r\n", "longer than its size"),
        (b"5\r\nab", "ended inside a chunk"),
        (b"2\r\nab\r\n", "cut short"),
    ],
)
def test_a_malformed_chunked_body_is_refused_400(wire: bytes, words: str) -> None:
    refused = _refused(b"Transfer-Encoding: chunked\r\n", wire)
    assert refused.status == HTTPStatus.BAD_REQUEST
    assert words in refused.message


def test_chunks_over_the_limit_are_refused_413_before_being_read() -> None:
    refused = _refused(b"Transfer-Encoding: chunked\r\n", b"200\r\n", limit=100)
    assert refused.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"Content-Length: -1\r\n", HTTPStatus.BAD_REQUEST),
        (b"Content-Length: abc\r\n", HTTPStatus.BAD_REQUEST),
        (b"Content-Length: \xd9\xa3\r\n", HTTPStatus.BAD_REQUEST),  # an Arabic-Indic 3
        (b"Content-Length: 2\r\nContent-Length: 3\r\n", HTTPStatus.BAD_REQUEST),
        (b"Content-Length: 1001\r\n", HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
        (b"Content-Length: " + b"9" * 5000 + b"\r\n", HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n", HTTPStatus.BAD_REQUEST),
        (b"Transfer-Encoding: chunked, gzip\r\n", HTTPStatus.BAD_REQUEST),
        (b"Transfer-Encoding: gzip, chunked\r\n", HTTPStatus.NOT_IMPLEMENTED),
    ],
)
def test_a_body_whose_length_cannot_be_told_is_refused(head: bytes, status: HTTPStatus) -> None:
    assert _refused(head, b"{}").status == status


def test_a_content_length_body_is_read_whole_or_refused() -> None:
    assert _read(b"Content-Length: 2\r\n", b"{}NEXT") == b"{}"
    assert _read(b"", b"NEXT") == b""
    assert _read(b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}") == b"{}"
    assert "ended after 1 of its 2 bytes" in _refused(b"Content-Length: 2\r\n", b"{").message


def test_the_query_is_read_as_api_gateway_gives_it() -> None:
    assert query_parameters("status=FAILED&status=TIMED_OUT&limit=&q=a+b") == {
        "status": "FAILED,TIMED_OUT",
        "limit": "",
        "q": "a b",
    }
