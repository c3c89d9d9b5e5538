"""``podium dev`` without a browser: the command, static files, the console's views."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from podium.local.dev_server import DevServer, api_event
from tests.browser.conftest import call

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("content-type", "")


def test_static_files_and_no_way_out_of_the_static_folder(dev: DevServer) -> None:
    status, body, kind = _get(dev.url + "/")
    assert status == 200 and kind.startswith("text/html") and b"app.js" in body
    assert _get(dev.url + "/static/app.js")[0] == 200
    assert _get(dev.url + "/static/vendor/dagre.min.js")[0] == 200
    for path in ("/static/../dev_server.py", "/static/%2e%2e/%2e%2e/local/dev_server.py"):
        assert _get(dev.url + path)[0] == 404


def test_the_console_is_served_with_the_deployed_pages_policy_and_no_eval(
    dev: DevServer,
) -> None:
    """The browser tests drive ``podium dev``: its page must run under the policy the
    stack's page has, so they test that one. It allowed 'unsafe-eval' once, for
    Playwright's ``wait_for_function``."""
    from podium.service.console_files import SECURITY_HEADERS

    for path in ("/", "/index.html", "/static/app.js", "/static/vendor/dagre.min.js"):
        with urllib.request.urlopen(dev.url + path, timeout=10) as response:
            policy = response.headers.get("Content-Security-Policy") or ""
        assert "unsafe-eval" not in policy, (path, policy)
        assert policy == SECURITY_HEADERS["Content-Security-Policy"], (path, policy)


def test_console_views_answer_json_errors(dev: DevServer) -> None:
    assert call(dev, "/api/console/nothing")[0] == 404
    assert call(dev, "/api/console/runs?limit=x")[0] == 400
    assert call(dev, "/api/console/runs?since=yesterday")[0] == 400
    status, body = call(dev, "/api/console/runs")
    assert status == 200 and isinstance(body.pop("now"), int)  # the server's clock
    assert body == {"workflows": [], "counts": {}, "total": 0, "listable": 0, "runs": []}
    assert call(dev, "/api/console/runs", {"x": 1})[0] == 405


def test_console_views_refuse_what_the_deployed_api_refuses(dev: DevServer) -> None:
    """dev clamped a page size or offset out of range and took any workflow name or run
    id, where the deployed API answers 400 naming the field: a console written against
    dev met errors only once deployed."""
    cases = {
        "/api/console/runs?limit=0": "query.limit",
        "/api/console/runs?limit=100000": "query.limit",
        "/api/console/runs?limit=%2B5": "query.limit",  # "+5": int() takes it, the API not
        "/api/console/runs?workflow=no%20such": "query.workflow",  # was path.name (session 20)
        "/api/console/runs/r1?offset=-1": "query.offset",
        "/api/console/runs/r1?limit=501": "query.limit",
        "/api/console/runs/bad%20id": "path.run_id",
        "/api/console/runs/bad%20id/step?name=a": "path.run_id",
    }
    for path, field in cases.items():
        status, body = call(dev, path)
        assert status == 400, (path, status, body)
        assert [e["path"] for e in body["errors"]] == [field], (path, body)
    assert call(dev, "/api/console/runs?limit=200")[0] == 200


def test_api_event_is_an_http_api_v2_event() -> None:
    event = api_event("GET", "/runs/r1?limit=5&limit=6", {"User-Agent": "t"}, b"")
    assert event["rawPath"] == "/runs/r1"
    assert event["queryStringParameters"] == {"limit": "5,6"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["body"] is None and event["headers"] == {"user-agent": "t"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_podium_dev_command_serves_until_stopped(tmp_path: Path, stop: int) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "podium.cli.main",
            "dev",
            "--port",
            str(port),
            "--home",
            str(tmp_path / "home"),
        ],
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, body, _ = _get(f"http://127.0.0.1:{port}/api/console/runs")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("podium dev did not start")
        assert status == 200 and b'"runs": []' in body
    finally:
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err.decode()
    assert f"http://127.0.0.1:{port}".encode() in err


def test_on_moto_the_views_find_workflows_in_the_table() -> None:
    from podium.local.dev_server import open_runtime, wait_until

    runtime = open_runtime(None, backend="moto")
    runtime.start()
    try:
        with DevServer(runtime, port=0) as server:
            flow = {"name": "on_moto", "steps": [{"id": "a", "type": "noop"}]}
            assert call(server, "/workflows", flow)[0] == 201
            run_id = call(server, "/workflows/on_moto/runs", {})[1]["run_id"]
            assert wait_until(
                lambda: call(server, f"/api/console/runs/{run_id}")[1]["terminal"], 20
            )
            status, listed = call(server, "/api/console/runs?workflow=on_moto")
            assert status == 200 and listed["workflows"] == ["on_moto"]
            assert [r["status"] for r in listed["runs"]] == ["SUCCEEDED"]
        assert not server.failures
    finally:
        runtime.stop()


def _wait_status(server: DevServer, run_id: str, want: str, timeout_s: float = 20) -> bool:
    from podium.local.dev_server import wait_until

    return wait_until(
        lambda: call(server, f"/runs/{run_id}")[1]["run"]["status"] == want, timeout_s
    )


def test_ready_steps_run_in_parallel(dev: DevServer) -> None:
    if getattr(dev.runtime, "workers", 1) < 2:
        pytest.skip("this runtime has no worker pool")
    fn = "tests.browser.console_support:nap"
    flow = {
        "name": "naps",
        "steps": [{"id": f"n{i}", "type": "lambda", "function": fn} for i in range(4)],
    }
    assert call(dev, "/workflows", flow)[0] == 201
    run_id = call(dev, "/workflows/naps/runs", {})[1]["run_id"]
    assert _wait_status(dev, run_id, "SUCCEEDED")
    steps = call(dev, f"/runs/{run_id}")[1]["steps"]
    spans = sorted((s["started_at"], s["ended_at"]) for s in steps)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans)), spans


def test_a_retry_due_later_does_not_hold_up_other_runs(dev: DevServer) -> None:
    later = {
        "name": "later",
        "steps": [
            {
                "id": "flaky",
                "type": "lambda",
                "function": "tests.browser.console_support:always_fails",
                "retries": 1,
                "retry_delay_seconds": 3600,
            }
        ],
    }
    now = {"name": "now", "steps": [{"id": "a", "type": "noop"}]}
    for flow in (later, now):
        assert call(dev, "/workflows", flow)[0] == 201
    waiting = call(dev, "/workflows/later/runs", {})[1]["run_id"]
    assert wait_until_step(dev, waiting, "flaky", "RETRY_WAIT")
    quick = call(dev, "/workflows/now/runs", {})[1]["run_id"]
    assert _wait_status(dev, quick, "SUCCEEDED", 10)
    assert call(dev, f"/runs/{waiting}")[1]["run"]["status"] == "RUNNING"


def wait_until_step(server: DevServer, run_id: str, step: str, status: str) -> bool:
    from podium.local.dev_server import wait_until

    def reached() -> bool:
        steps = call(server, f"/runs/{run_id}")[1]["steps"]
        return any(s["step"] == step and s["status"] == status for s in steps)

    return wait_until(reached, 20)
