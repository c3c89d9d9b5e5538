"""The console loaded through ``podium console --endpoint`` (a separate process) over the
signed stand-in of a deployed API: every call the page makes is signed and forwarded."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import shot
from tests.integration import remote_support as rs
from tests.integration.test_console_remote import CHAIN, Deployed, deployed, fetch, user

__all__ = ["deployed", "user"]  # fixtures


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def console(deployed: Deployed, user: None, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    root = Path(__file__).resolve().parents[2]
    log = (tmp_path / "console.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "podium.cli.main", "console", "--endpoint", deployed.gateway.url,
         "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(root / "functions")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "console.log").read_text()) from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_the_console_over_a_deployed_api(deployed: Deployed, console: str, page: Any) -> None:
    headers = {"Content-Type": "application/json"}
    pushed = fetch(console + "/workflows", method="POST", headers=headers,
                   body=json.dumps(CHAIN).encode())  # fmt: skip
    assert pushed[0] == 201, pushed  # the API's status, passed on as it came
    run = json.dumps({"run_id": "browser-1"}).encode()
    started = fetch(console + "/workflows/console_wf/runs", method="POST", headers=headers,
                    body=run)  # fmt: skip
    assert started[0] == 202, started
    deployed.pump()

    page.goto(f"{console}/#/")
    page.wait_for_selector('tr.run-row[data-run="browser-1"][data-status="FAILED"]')
    page.goto(f"{console}/#/runs/browser-1")
    page.wait_for_selector('g.node[data-node="b"][data-status="FAILED"]')
    page.wait_for_selector('g.node[data-node="a"][data-status="SUCCEEDED"]')
    page.click('g.node[data-node="b"]')
    page.wait_for_selector("#detail-title:has-text('b')")
    assert "disk full" in page.inner_text("#detail-error")
    shot(page, "console-remote")
    signed = [s for s in deployed.gateway.seen if s.path.startswith("/console/")]
    assert {s.path.split("?")[0] for s in signed} >= {"/console/runs", "/console/runs/browser-1"}
    assert all(s.scope.endswith(f"/{rs.REGION}/execute-api/aws4_request") for s in signed)


def test_podium_console_serves_the_page_with_the_deployed_consoles_headers(console: str) -> None:
    """`podium console` sent the page with no Content-Security-Policy: the strict one the
    deployed console carries (no inline script runs) now comes with it too."""
    from podium.service.console_files import SECURITY_HEADERS

    with urllib.request.urlopen(console + "/", timeout=5) as answer:
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value
