"""podium dev gives each API request a request id of its own (``local-<hex>``), as API
Gateway does and as its console views did; every answer carried "local"."""

from __future__ import annotations

from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import dev, send

__all__ = ["dev"]  # fixture


def test_podium_dev_gives_each_api_request_its_own_request_id(dev: DevServer) -> None:
    """Every error podium dev's API answered carried request_id "local" (dev_server.py
    api_event set requestContext.requestId to the constant "local"), so "internal error;
    report request id local" and the log line "internal error (request local)" named no
    request, and two answers could not be told apart."""
    first = send(dev.port, "GET", "/runs/nope")[2]
    second = send(dev.port, "GET", "/runs/nope")[2]
    assert first["code"] == second["code"] == "not_found"  # control
    assert first["request_id"] != second["request_id"], (first, second)
    assert first["request_id"].startswith("local-"), first
