"""A console view's URL gets the same answer from podium dev as from the deployed API
(through podium console): a trailing slash or an empty part is no route."""

from __future__ import annotations

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import dev, proxy, send

__all__ = ["dev", "proxy"]  # fixtures


@pytest.mark.parametrize(
    "path", ["/api/console/runs/", "/api/console/workflows/", "/api/console/runs/x/step/"]
)
def test_a_console_view_with_a_trailing_slash_is_answered_as_deployed(
    dev: DevServer, proxy: ConsoleProxy, path: str
) -> None:
    """GET /api/console/runs/ was the run list under podium dev (200: dev_server.py
    console_view stripped the slashes before it split the path), but the deployed route
    /console/runs/ is 404 no_route, and so it was through podium console, which forwards
    it there."""
    deployed_status, _, deployed_body = send(proxy.port, "GET", path)
    assert (deployed_status, deployed_body["code"]) == (404, "no_route")  # control
    status, _, body = send(dev.port, "GET", path)
    assert (status, body.get("code")) == (404, "no_route"), (status, str(body)[:200])


def test_another_method_on_no_console_view_is_404_as_deployed(
    dev: DevServer, proxy: ConsoleProxy
) -> None:
    """POST to a console path no view has was 405 "use GET" under podium dev; deployed
    (and through podium console) no route has the path: 404 no_route."""
    assert send(proxy.port, "POST", "/api/console/nope")[0] == 404  # control
    status, _, body = send(dev.port, "POST", "/api/console/nope")
    assert (status, body.get("code")) == (404, "no_route"), body
    status, headers, _ = send(dev.port, "POST", "/api/console/runs")  # a view: 405
    assert (status, headers.get("Allow")) == (405, "GET")
