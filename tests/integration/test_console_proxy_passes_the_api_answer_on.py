"""podium console passes the API's answer on as it came: an error's documented body
{"code", "message", "errors", "request_id"} (and a 409's extras), its status and its
headers; a success's own status (201, 202), not 200 for all."""

from __future__ import annotations

import json

import pytest

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import ERROR_KEYS, dev, proxy, send

__all__ = ["dev", "proxy"]  # fixtures

WF = {"name": "passed", "steps": [{"id": "a", "type": "wait_for_callback"}]}
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/api/console/runs/nope", "/runs/nope", "/console/runs?limit=0"])
def test_podium_console_passes_the_error_code_and_request_id_on(
    dev: DevServer, proxy: ConsoleProxy, path: str
) -> None:
    """podium console answered an API error with {"message", "errors"} only
    (ConsoleProxy.forward rebuilt it from ApiError, which kept no code and no request
    id): a client of the console could not tell not_found from no_route, nor quote the
    request id."""
    dev_status, _, dev_body = send(dev.port, "GET", path)
    assert set(dev_body) >= ERROR_KEYS, dev_body  # control
    status, _, body = send(proxy.port, "GET", path)
    assert status == dev_status, body
    assert set(body) >= ERROR_KEYS and body["code"] == dev_body["code"], body


def test_podium_console_passes_a_409s_extras_on(dev: DevServer, proxy: ConsoleProxy) -> None:
    """A refused action's 409 names the status the run is in and the actions allowed
    from it (``current``, ``allowed``); podium console dropped both. A start answers 202
    through it too (it answered 200 for every success)."""
    pushed = send(proxy.port, "POST", "/workflows", json.dumps(WF).encode(), JSON)
    assert pushed[0] == 201, pushed
    status, _, run = send(proxy.port, "POST", "/workflows/passed/runs", b"{}", JSON)
    assert status == 202, run
    action = f"/runs/{run['run_id']}/actions"
    status, _, body = send(proxy.port, "POST", action, b'{"action": "resume"}', JSON)
    assert (status, body["code"]) == (409, "action_refused"), body
    assert {"current", "allowed", "request_id"} <= set(body), body
