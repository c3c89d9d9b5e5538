"""podium console forwards a body's Content-Encoding with it (signed): a gzip push
reaches the API as the API reads it, as through podium dev."""

from __future__ import annotations

import gzip
import json

from podium.cli.console_command import ConsoleProxy
from podium.local.dev_server import DevServer
from tests.integration.local_servers_support import dev, proxy, send

__all__ = ["dev", "proxy"]  # fixtures

WF = {"name": "gzipped", "steps": [{"id": "a", "type": "noop"}]}


def test_podium_console_forwards_a_gzip_body_as_sent(dev: DevServer, proxy: ConsoleProxy) -> None:
    """A push with Content-Encoding: gzip was taken by podium dev (201), but podium
    console forwarded the compressed bytes without the header (ConsoleProxy.forward
    passed only content_type on to ApiClient.request), so the API read gzip as text and
    answered 400 "the body is not valid UTF-8 (byte 1)"."""
    packed = gzip.compress(json.dumps(WF).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    status, _, body = send(proxy.port, "POST", "/workflows", packed, headers)
    assert (status, body["name"]) == (201, "gzipped"), body
    assert send(dev.port, "GET", "/workflows/gzipped")[0] == 200
