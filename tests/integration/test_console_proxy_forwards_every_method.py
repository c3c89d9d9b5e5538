"""podium console forwards every method to the API and passes its answer on: 405 with
Allow on a served path, 404 no_route on an unknown one. It refused PUT, DELETE and
PATCH itself, with an answer of its own."""

from __future__ import annotations

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import deployed, dev, proxy, send

__all__ = ["dev", "proxy"]  # fixtures


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize(
    ("path", "want"), [("/workflows", 405), ("/nope", 404), ("/runs/x/actions", 405)]
)
def test_podium_console_answers_other_methods_as_the_api(
    dev: DevServer, proxy: ConsoleProxy, method: str, path: str, want: int
) -> None:
    """PUT to podium console answered 405 {"message": "PUT is not forwarded"}, with no
    Allow header and no code, whatever the path (console_command.py _serve forwarded
    only GET, HEAD and POST), where the API answers a served path 405
    method_not_allowed with Allow naming its methods, and an unknown path 404 no_route
    (the stack's $default route sends every method to the function)."""
    api_status, api_headers, api_body = deployed(dev, method, path)
    assert api_status == want  # control
    status, headers, body = send(
        proxy.port, method, path, b"{}", {"Content-Type": "application/json"}
    )
    assert (status, body.get("code")) == (api_status, api_body["code"]), body
    assert headers.get("Allow") == api_headers.get("Allow"), headers
