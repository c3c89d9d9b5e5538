"""The console against a deployed stack: the api function's console views, and
``podium console --endpoint`` serving the console locally and forwarding its calls,
signed with SigV4, to the stand-in for a deployed API (tests/integration/remote_support).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium import bootstrap
from podium.adapters.clock import SystemClock, UlidGenerator
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.queues import SqsQueue
from podium.adapters.runners import LocalFunctionRunner, RoutingRunner
from podium.adapters.table_schema import create_table
from podium.cli.console_command import ConsoleProxy, open_console
from podium.cli.remote import ApiError, connect, resolve_target
from podium.local.runtime import LocalRuntime
from podium.service.context import Services
from podium.service.runtimes.registry import RUNTIMES
from tests.integration import remote_support as rs
from tests.integration.test_api import WORKFLOW, call

CHAIN = {
    "name": "console_wf",
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "fail", "message": "disk full", "depends_on": ["a"]},
    ],
}


# -- the api function's console routes (embedded runtime) ----------------------------------
def test_the_api_serves_the_console_views(runtime: LocalRuntime) -> None:
    assert call("GET", "/console/workflows") == (200, {"workflows": []})
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", "/workflows", CHAIN)[0] == 201
    assert call("POST", "/workflows/api_wf/runs", {"run_id": "r-ok"})[0] == 202
    assert call("POST", "/workflows/console_wf/runs", {"run_id": "r-bad"})[0] == 202
    runtime.pump()
    assert call("GET", "/console/workflows") == (200, {"workflows": ["api_wf", "console_wf"]})

    status, runs = call("GET", "/console/runs")
    assert status == 200 and runs["total"] == 2
    assert runs["counts"] == {"SUCCEEDED": 1, "FAILED": 1}
    status, failed = call("GET", "/console/runs", query={"status": "FAILED", "since": "1h"})
    assert status == 200 and [r["run_id"] for r in failed["runs"]] == ["r-bad"]
    status, one = call("GET", "/console/runs", query={"workflow": "api_wf", "limit": "1"})
    assert [r["run_id"] for r in one["runs"]] == ["r-ok"]

    status, page = call("GET", "/console/runs/r-bad", query={"limit": "10"})
    assert status == 200 and page["run"]["status"] == "FAILED"
    assert {s["step"]: s["status"] for s in page["steps"]["items"]} == {
        "a": "SUCCEEDED",
        "b": "FAILED",
    }
    status, step = call("GET", "/console/runs/r-bad/step", query={"name": "b"})
    assert status == 200 and "disk full" in json.dumps(step["attempts"])
    assert step["logs"] is None  # the deployed API has no captured output


def test_console_view_errors_follow_the_api_error_style(runtime: LocalRuntime) -> None:
    status, body = call("GET", "/console/runs", query={"status": "NOPE"})
    assert status == 400 and body["code"] == "invalid_request"
    assert body["errors"][0]["path"] == "query.status"
    status, body = call("GET", "/console/runs", query={"limit": "0"})
    assert status == 400 and body["errors"][0]["path"] == "query.limit"
    status, body = call("GET", "/console/runs", query={"since": "yesterday"})
    assert status == 400 and body["errors"][0]["path"] == "query.since"
    status, body = call("GET", "/console/runs/no-such-run")
    assert status == 404 and body["code"] == "not_found"
    status, body = call("GET", "/console/runs/bad%20id")
    assert status in (400, 404)
    status, body = call("GET", "/console/runs/no-such-run/step")
    assert status == 400 and body["errors"][0]["path"] == "query.name"


# -- podium console, against the signed stand-in of a deployed API -----------------------
@dataclass
class Deployed:
    gateway: rs.ApiGateway
    sqs: Any
    outputs: dict[str, str]

    def pump(self) -> int:
        return rs.pump(self.sqs, self.outputs["EventQueueUrl"], self.outputs["WorkQueueUrl"])


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with mock_aws(), rs.ApiGateway() as gateway:
        cf = boto3.client("cloudformation", region_name=rs.REGION)
        cf.create_stack(
            StackName="podium-console",
            TemplateBody=json.dumps(rs.stack_template(gateway.url, "podium-state")),
        )
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cf.describe_stacks(StackName="podium-console")["Stacks"][0]["Outputs"]
        }
        db = boto3.client("dynamodb", region_name=rs.REGION)
        sqs = boto3.client("sqs", region_name=rs.REGION)
        create_table(db, outputs["TableName"])
        clock = SystemClock()
        bootstrap.install(
            Services(
                runtimes=RUNTIMES,
                store=DynamoStateStore(db, outputs["TableName"]),
                work_queue=SqsQueue(sqs, outputs["WorkQueueUrl"]),
                event_queue=SqsQueue(sqs, outputs["EventQueueUrl"]),
                runner=RoutingRunner(LocalFunctionRunner(), None),
                clock=clock,
                ids=UlidGenerator(clock),
            )
        )
        try:
            yield Deployed(gateway, sqs, outputs)
        finally:
            # What failed while the module's tests ran: a request a closed page left in
            # flight, answered after the wiring is gone, is no test's (it made a flaky
            # "Podium is not configured" failure in a clean-clone CI).
            failures = list(gateway.failures)
            bootstrap.install(None)
    assert not failures, failures


@pytest.fixture
def user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The test credentials and nothing else from the machine."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "PODIUM_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", rs.ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rs.SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", rs.REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("PODIUM_CONFIG", str(tmp_path / "podium.toml"))


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
          body: bytes | None = None) -> tuple[int, str, bytes]:  # fmt: skip
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


@pytest.fixture
def proxy(deployed: Deployed, user: None) -> Iterator[ConsoleProxy]:
    client = connect(resolve_target(endpoint=deployed.gateway.url))
    assert client.credentials is not None  # a local endpoint, but credentials: signed
    with open_console(client, port=0) as proxy:
        yield proxy


def test_podium_console_serves_the_files_and_signs_the_views(
    deployed: Deployed, proxy: ConsoleProxy
) -> None:
    status, kind, page = fetch(proxy.url + "/")
    assert status == 200 and kind.startswith("text/html") and b"<html" in page.lower()
    status, kind, _ = fetch(proxy.url + "/static/app.js")
    assert status == 200 and "javascript" in kind
    assert fetch(proxy.url + "/static/../../remote.py")[0] == 404

    # An API call goes through as is (signed); the console's views under /api/console/.
    body = json.dumps(CHAIN).encode()
    headers = {"Content-Type": "application/json"}
    status, _, raw = fetch(proxy.url + "/workflows", method="POST", headers=headers, body=body)
    assert status == 201 and json.loads(raw)["version"] == 1  # the API's status, passed on
    run = json.dumps({"run_id": "remote-1"}).encode()
    url = proxy.url + "/workflows/console_wf/runs"
    assert fetch(url, method="POST", headers=headers, body=run)[0] == 202
    assert deployed.pump() > 0

    status, _, raw = fetch(proxy.url + "/api/console/workflows")
    assert (status, json.loads(raw)) == (200, {"workflows": ["console_wf"]})
    status, _, raw = fetch(proxy.url + "/api/console/runs?status=FAILED&since=1h")
    runs = json.loads(raw)
    assert status == 200 and [r["run_id"] for r in runs["runs"]] == ["remote-1"]
    status, _, raw = fetch(proxy.url + "/api/console/runs/remote-1?limit=5")
    page_view = json.loads(raw)
    assert status == 200 and page_view["counts"] == {"SUCCEEDED": 1, "FAILED": 1}
    assert {s["step"]: s["status"] for s in page_view["steps"]["items"]} == {
        "a": "SUCCEEDED",
        "b": "FAILED",
    }
    status, _, raw = fetch(proxy.url + "/api/console/runs/remote-1/step?name=b")
    assert status == 200 and "disk full" in raw.decode()

    # Every forwarded request was signed and accepted by the gateway's SigV4 check.
    forwarded = [s for s in deployed.gateway.seen if "/console/" in s.path]
    assert forwarded and all(s.scope.endswith("/execute-api/aws4_request") for s in forwarded)
    assert all(s.status == 200 for s in forwarded)


def test_podium_console_passes_api_errors_on(deployed: Deployed, proxy: ConsoleProxy) -> None:
    status, _, raw = fetch(proxy.url + "/api/console/runs/nope")
    assert status == 404 and "nope" in json.loads(raw)["message"]
    status, _, raw = fetch(proxy.url + "/api/console/runs?status=NOPE")
    body = json.loads(raw)
    assert status == 400 and body["errors"][0]["path"] == "query.status"


def test_podium_console_refuses_other_sites(proxy: ConsoleProxy) -> None:
    # DNS rebinding: a request that names another host is not signed and forwarded.
    status, _, raw = fetch(proxy.url + "/api/console/workflows", headers={"Host": "evil.test"})
    assert status == 403 and "Host" in json.loads(raw)["message"]
    # A cross-site form post is not forwarded either.
    evil = {"Origin": "https://evil.test", "Content-Type": "text/plain"}
    status, _, _ = fetch(proxy.url + "/workflows", method="POST", headers=evil, body=b"{}")
    assert status == 403


def test_unsigned_or_wrongly_signed_calls_are_refused(deployed: Deployed, user: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    client = connect(resolve_target(endpoint=deployed.gateway.url))
    with pytest.raises(ApiError) as caught:
        open_console(client, port=0)
    assert caught.value.status == 403 and "execute-api:Invoke" in caught.value.hint


def test_podium_console_finds_the_api_from_the_stack(deployed: Deployed, user: None) -> None:
    client = connect(resolve_target(stack="podium-console"))
    assert client.endpoint == deployed.gateway.url and client.region == rs.REGION
    with open_console(client, port=0) as proxy:
        status, _, raw = fetch(proxy.url + "/api/console/workflows")
        assert status == 200 and "workflows" in json.loads(raw)


def test_podium_console_command_reports_a_missing_stack(deployed: Deployed, user: None) -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    result = CliRunner().invoke(app, ["console", "--stack", "no-such-stack", "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "no-such-stack" in result.output
