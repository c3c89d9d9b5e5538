"""The query ``podium console`` forwards to the deployed API, next to what ``podium
dev`` (and API Gateway, payload v2) make of the same request."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import api_event


class _Recording:
    """An ApiClient stand-in that answers {} (raw, as the proxy asks: status, headers,
    body) and keeps the query of each request."""

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.queries.append(dict(kwargs.get("query") or {}))
        return 200, {"Content-Type": "application/json"}, b"{}"


@pytest.mark.parametrize(
    "target",
    [
        # The last value was kept: TIMED_OUT runs only, where dev and API Gateway join
        # repeated values with commas (FAILED,TIMED_OUT), which the run list reads as both.
        "/api/console/runs?status=FAILED&status=TIMED_OUT",
        # A blank value was dropped: the deployed API refuses ?limit= (400 at
        # query.limit), but got no limit at all through the proxy and answered 200.
        "/api/console/runs?limit=",
    ],
)
def test_the_proxy_forwards_the_query_api_gateway_would_give(target: str) -> None:
    """The console proxy forwarded another query than the deployed API gets for the same
    request; it forwards what dev's API Gateway event (``api_event``) holds now."""
    client = _Recording()
    with ConsoleProxy(client, port=0) as proxy:  # type: ignore[arg-type]
        answer = urllib.request.urlopen(proxy.url + target, timeout=10)
        with answer:
            assert json.loads(answer.read()) == {}
    as_dev = api_event("GET", target, {}, b"")["queryStringParameters"]
    assert client.queries == [as_dev], client.queries
    assert as_dev in ({"status": "FAILED,TIMED_OUT"}, {"limit": ""})
