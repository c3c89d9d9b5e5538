"""OPTIONS to either local server is answered as the deployed API answers it: 405
method_not_allowed, JSON, with Allow naming the path's methods. Both answered 501 with
http.server's HTML error page (their handlers had no do_OPTIONS)."""

from __future__ import annotations

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import deployed, dev, proxy, send

__all__ = ["dev", "proxy"]  # fixtures


@pytest.mark.parametrize("path", ["/workflows", "/api/console/runs"])
def test_options_on_podium_dev_is_the_apis_json_405(dev: DevServer, path: str) -> None:
    """OPTIONS /workflows to podium dev answered 501 text/html (dev_server.py
    _handler_for listed GET, POST, PUT, DELETE, PATCH and HEAD only)."""
    want_status, want_headers, want = deployed(dev, "OPTIONS", path.replace("/api", "", 1))
    assert (want_status, want["code"]) == (405, "method_not_allowed")  # control
    status, headers, body = send(dev.port, "OPTIONS", path)
    assert (status, headers.get("Allow")) == (405, want_headers["Allow"]), (status, body)
    assert isinstance(body, dict) and body.get("code") == "method_not_allowed", body


def test_options_on_podium_console_is_the_apis_json_405(
    dev: DevServer, proxy: ConsoleProxy
) -> None:
    """OPTIONS to podium console answered 501 text/html (console_command.py
    _handler_for had no do_OPTIONS); it is forwarded, and the API's answer passed on."""
    _, want_headers, want = deployed(dev, "OPTIONS", "/workflows")
    status, headers, body = send(proxy.port, "OPTIONS", "/workflows")
    assert (status, headers.get("Allow")) == (405, want_headers["Allow"]), (status, body)
    assert isinstance(body, dict) and body.get("code") == want["code"], body
