"""The two local servers that serve the API's routes side by side: ``podium dev``
(DevServer) and ``podium console`` (ConsoleProxy, which signs and forwards to a stack's
API; here it forwards to a podium dev server, an unsigned local endpoint, which answers
with the deployed handler), and raw HTTP to them."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.cli.remote import ApiClient
from podium.local.dev_server import DevServer
from tests.integration.dev_support import memory_dev_server

ERROR_KEYS = {"code", "message", "errors", "request_id"}


@pytest.fixture
def dev() -> Iterator[DevServer]:
    with memory_dev_server() as server:
        yield server


@pytest.fixture
def proxy(dev: DevServer) -> Iterator[ConsoleProxy]:
    client = ApiClient(endpoint=dev.url, credentials=None, region="local")
    with ConsoleProxy(client, port=0) as console:
        yield console


def send(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, the JSON answer or the raw bytes when it is not JSON)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **(headers or {})}
        )
        response = connection.getresponse()
        raw = response.read()
        try:
            data: Any = json.loads(raw) if raw else None
        except ValueError:
            data = raw[:120]
        return response.status, dict(response.getheaders()), data
    finally:
        connection.close()


def deployed(dev: DevServer, method: str, path: str) -> tuple[int, dict[str, str], Any]:
    """What the api function answers for the request (the API Gateway event podium dev
    builds for it, given straight to handlers/api.py)."""
    status, headers, payload = dev.call_api(method, path, {"host": "x"}, b"")
    return status, headers, json.loads(payload)
