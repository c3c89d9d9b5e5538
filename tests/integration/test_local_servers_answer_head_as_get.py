"""HEAD to ``podium dev`` or ``podium console`` was answered 405 on every API path and
console view where GET answers 200 (only the console's own files took HEAD): dev gave
the console views a 405 naming GET, and both passed HEAD on to the api function, which
routes no HEAD. RFC 9110 expects HEAD wherever GET works: answered as GET, with its
status and headers (Content-Length: the GET body's), and no body. (The deployed API
itself routes no HEAD: unchanged.)"""

from __future__ import annotations

import http.client
from typing import Any

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import dev, proxy

__all__ = ["dev", "proxy"]  # fixtures

PATHS = ["/workflows", "/api/console/workflows", "/api/console/runs?limit=5", "/"]


def _raw(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """The answer as sent: status, headers (lower-cased names) and the bytes that came."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, headers={"Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def _same_but_the_body(port: int, path: str) -> None:
    got_status, got_headers, got_body = _raw(port, "GET", path)
    assert got_status == 200, (path, got_status, got_body[:200])
    status, headers, body = _raw(port, "HEAD", path)
    assert status == got_status, (path, status, headers)
    assert body == b""
    assert headers.get("content-length") == str(len(got_body)), (path, headers)
    for name in ("content-type", "cache-control", "x-content-type-options"):
        assert headers.get(name) == got_headers.get(name), (path, name, headers)


@pytest.mark.parametrize("path", PATHS)
def test_head_on_podium_dev_is_get_without_the_body(dev: DevServer, path: str) -> None:
    _same_but_the_body(dev.port, path)


@pytest.mark.parametrize("path", PATHS)
def test_head_on_podium_console_is_get_without_the_body(
    dev: DevServer, proxy: ConsoleProxy, path: str
) -> None:
    _same_but_the_body(proxy.port, path)


def test_head_where_get_is_refused_is_refused_alike(dev: DevServer, proxy: ConsoleProxy) -> None:
    """A path GET does not take (POST only) answers HEAD as it answers GET: 405."""
    for port in (dev.port, proxy.port):
        answers: list[Any] = [_raw(port, m, "/runs/x/actions")[:2] for m in ("GET", "HEAD")]
        (get_status, get_headers), (status, headers) = answers
        assert status == get_status == 405
        assert headers.get("allow") == get_headers.get("allow")
        assert headers.get("content-length") == get_headers.get("content-length")
