"""The http step against a local test server (a threading http.server on 127.0.0.1):
success, 4xx, 5xx retried, a slow server timing out, a host not on the allow-list, a
response over the cap, the success expression, and a Secrets Manager credential."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.http_transport import SecretsManagerSecrets, StdlibHttpTransport
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import HttpAccess
from podium.local.runtime import LocalRuntime

SEEN: list[dict[str, Any]] = []
FLAKY = {"left": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def _reply(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (its read timeout)
            self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        SEEN.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
            }
        )
        if self.path.startswith("/ok"):
            self._reply(200, {"rows": 42, "path": self.path})
        elif self.path == "/bad":
            self._reply(400, {"error": "no such table"})
        elif self.path == "/flaky":
            if FLAKY["left"] > 0:
                FLAKY["left"] -= 1
                self._reply(503, {"error": "busy"})
            else:
                self._reply(200, {"ok": True})
        elif self.path == "/slow":
            time.sleep(1.5)
            self._reply(200, {"late": True})
        elif self.path == "/big":
            self._reply(200, b"x" * 5000, "text/plain")
        elif self.path == "/pending":
            self._reply(200, {"state": "PENDING"})
        elif self.path == "/nan":  # what Python's json.dumps writes for a float('nan')
            self._reply(200, b'{"score": NaN, "rows": 3}')
        elif self.path == "/deep":
            self._reply(200, b"[" * 100_000 + b"]" * 100_000)
        else:
            self._reply(404, {"error": "not found"})

    do_GET = do_POST = _handle


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    SEEN.clear()
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(Name="warehouse/token", SecretString='{"token": "s3cr3t"}')
        runtime.services.http = HttpAccess(
            StdlibHttpTransport(), frozenset({"127.0.0.1"}), SecretsManagerSecrets(secrets)
        )
        yield runtime


def call(rt: LocalRuntime, url: str, name: str = "call", **step: Any) -> Any:
    view = rt.run({"name": name, "steps": [{"id": "c", "type": "http", "url": url, **step}]})
    return view.run, view.steps[0]


def test_a_2xx_json_body_is_the_output_and_templates_are_rendered(
    rt: LocalRuntime, server: str
) -> None:
    rt.push(
        {
            "name": "call_ok",
            "params": {"day": {"type": "string", "default": "2026-12-01"}},
            "steps": [
                {
                    "id": "c",
                    "type": "http",
                    "method": "POST",
                    "url": server + "/ok?day=${params.day}",
                    "headers": {"X-Day": "${params.day}"},
                    "body": {"table": "sales", "day": "${params.day}"},
                    "auth": {"secret": "warehouse/token", "key": "token"},
                }
            ],
        }
    )
    started = rt.start_run("call_ok")
    rt.pump()
    record = rt.store.get_step(started.run_id, "c")
    assert record is not None and record.status is StepStatus.SUCCEEDED
    assert record.output == {"rows": 42, "path": "/ok?day=2026-12-01"}
    (seen,) = SEEN
    assert seen["method"] == "POST"
    assert json.loads(seen["body"]) == {"table": "sales", "day": "2026-12-01"}
    assert seen["headers"]["x-day"] == "2026-12-01"
    assert seen["headers"]["authorization"] == "Bearer s3cr3t"
    assert seen["headers"]["idempotency-key"] == f"{started.run_id}/c/1"
    assert seen["headers"]["content-type"] == "application/json"


def test_a_4xx_fails_without_retry(rt: LocalRuntime, server: str) -> None:
    run, step = call(rt, server + "/bad")
    assert run.status is RunStatus.FAILED
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error_type == "Podium.HttpError"
    assert "HTTP 400" in step.error and "no such table" in step.error
    assert len(SEEN) == 1


def test_a_5xx_is_retried_twice_by_default(rt: LocalRuntime, server: str) -> None:
    FLAKY["left"] = 2
    run, step = call(rt, server + "/flaky")
    assert run.status is RunStatus.SUCCEEDED
    assert step.attempt == 3 and step.output == {"ok": True}
    FLAKY["left"] = 5
    run, step = call(rt, server + "/flaky", name="call2")
    assert run.status is RunStatus.FAILED and step.attempt == 3
    assert "HTTP 503" in step.error


def test_a_slow_server_times_out(rt: LocalRuntime, server: str) -> None:
    started = time.monotonic()
    _run, step = call(rt, server + "/slow", read_timeout=0.3, retries=0)
    assert time.monotonic() - started < 1.4
    assert step.status is StepStatus.FAILED
    assert step.error_type == "Podium.HttpError" and "read timeout of 0.3 s" in step.error


def test_a_host_not_on_the_allow_list_is_refused(rt: LocalRuntime, server: str) -> None:
    port = server.rsplit(":", 1)[1]
    _, step = call(rt, f"http://localhost:{port}/ok")
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error_type == "Podium.HttpHostNotAllowed"
    assert "allow-list" in step.error and SEEN == []
    rt.services.http = None  # nothing is reachable by default
    _run, step = call(rt, server + "/ok", name="call2")
    assert step.error_type == "Podium.HttpHostNotAllowed"


def test_a_response_over_the_cap_fails(rt: LocalRuntime, server: str) -> None:
    _, step = call(rt, server + "/big", max_response_bytes=1000)
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error_type == "Podium.HttpResponseTooLarge"
    _run, step = call(rt, server + "/big", name="call2", max_response_bytes=10_000)
    assert step.status is StepStatus.SUCCEEDED and step.output == "x" * 5000


def test_the_success_expression_decides(rt: LocalRuntime, server: str) -> None:
    _, step = call(rt, server + "/pending", success='response.body.state == "DONE"', retries=0)
    assert step.status is StepStatus.FAILED
    assert "success expression does not hold" in step.error
    _run, step = call(
        rt, server + "/bad", name="c2", success="response.status == 400 && has(response.body.error)"
    )
    assert step.status is StepStatus.SUCCEEDED and step.output == {"error": "no such table"}


def test_a_missing_secret_fails_naming_it(rt: LocalRuntime, server: str) -> None:
    _run, step = call(rt, server + "/ok", auth={"secret": "nope"})
    assert step.error_type == "Podium.ConfigError" and "nope" in step.error
    assert SEEN == []


def test_the_definition_is_checked_at_push() -> None:
    def steps(**step: Any) -> dict[str, Any]:
        return {"name": "w", "steps": [{"id": "c", "type": "http", **step}]}

    with pytest.raises(DefinitionError, match="success reads 'params"):
        validate_definition(steps(url="https://a.example/x", success="params.x == 1"))
    with pytest.raises(DefinitionError, match="not an http:// or https:// URL"):
        validate_definition(steps(url="ftp://a.example/x"))
    with pytest.raises(DefinitionError, match="unknown field 'password'"):
        validate_definition(steps(url="https://a.example/x", password="hunter2"))


def test_a_timestamp_in_a_body_is_sent_as_rfc_3339_and_nan_fails_once(
    rt: LocalRuntime, server: str
) -> None:
    """The rendered request went to json.dumps as Python objects: a datetime raised
    past the runtime's handling (the attempt never ended), NaN was sent as bare NaN."""
    run, step = call(rt, server + "/ok", method="POST", body={"at": "${run.start_time}"})
    assert run.status is RunStatus.SUCCEEDED, step.error
    assert json.loads(SEEN[-1]["body"]) == {"at": "2026-01-01T00:00:00Z"}
    run, step = call(rt, server + "/ok", "nan", method="POST", body={"r": "${0.0/0.0}"})
    assert step.status is StepStatus.FAILED and "NaN at body.r" in (step.error or "")


@pytest.mark.parametrize(("path", "why"), [("/nan", "NaN"), ("/deep", "nests too deep")])
def test_a_body_that_is_not_standard_json_fails_once_naming_why(
    rt: LocalRuntime, server: str, path: str, why: str
) -> None:
    """A NaN became the step's output (GET /runs/{id} then sent invalid JSON), and a body
    nested 100,000 deep raised out of the runtime (retried as a platform error): both
    fail now as a lambda's output would, once, saying why."""
    run, step = call(rt, server + path)
    assert run.status is RunStatus.FAILED
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error_type == "Podium.OutputError"
    assert why in step.error and "response body" in step.error
