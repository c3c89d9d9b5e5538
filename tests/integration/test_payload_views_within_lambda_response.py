"""Two views were bounded in characters or counts, not bytes, past Lambda's response.

A deployed API answers through a Lambda function, whose response is at most 6 MB
(GET /runs/{id} keeps its pages under it: views.STEPS_PAGE_BYTES, EVENTS_PAGE_BYTES).
Stored errors were clipped by characters (core/engine/step_error.py clip: 2,048 for a
message, 16 KiB for a traceback), and the API writes JSON with ``ensure_ascii`` (a CJK
character is 6 bytes, ``\\u5165``). Two views had no byte bound at all:

- the console's step detail (service/console_views.py step_detail) listed every event of
  the step with its traceback and every attempt with its traceback again;
- a loop's page of iterations (service/loop_views.py, up to MAX_PAGE = 500 rows) holds
  each iteration's error.

A step whose error text is not English and that retried a few dozen times, or a foreach
of 500 such failures, could not be shown: deployed, Lambda refused the response (a 5xx),
on the very page an operator opens to see why it failed.

Now errors are clipped by bytes of UTF-8; the step detail's events come without
tracebacks (its attempts have them), the newest within a budget of bytes, and so do the
attempts' tracebacks; a page of iterations ends early, with its ``next``, past a budget
of bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.handlers import api
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # a synchronous Lambda response, at most
MESSAGE = "入力データが不正です。"  # "the input data is invalid."


def invalid(event: dict[str, Any]) -> None:
    # 22,000 characters (an error that quotes the rows it refused): its message is
    # clipped to 2,048 characters, its traceback to 16 KiB characters.
    raise ValueError(MESSAGE * 2000)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _raw_get(path: str, query: dict[str, str]) -> dict[str, Any]:
    """The api function's response as Lambda gets it back (``call`` decodes the body)."""
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in query.items()),
        "queryStringParameters": query,
        "headers": {},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": None,
        "isBase64Encoded": False,
    }
    response: dict[str, Any] = api.handler(event, None)
    return response


def _lambda_bytes(response: dict[str, Any]) -> int:
    # What the python3.13 runtime sends back (awslambdaric: json, ensure_ascii=False):
    # the body is a JSON string inside it, its backslashes and quotes escaped once more.
    return len(json.dumps(response, ensure_ascii=False).encode())


def test_the_step_detail_of_a_step_that_retried_fits_a_lambda_response(rt: LocalRuntime) -> None:
    wf = {
        "name": "retried_view",
        "steps": [
            {
                "id": "load",
                "type": "lambda",
                "function": f"{__name__}:invalid",
                "retry": [{"max_attempts": 30, "interval": 0}],  # 99 are allowed
            }
        ],
    }
    assert call("POST", "/workflows", wf)[0] == 201
    assert call("POST", "/workflows/retried_view/runs", {"run_id": "retried-view-1"})[0] == 202
    rt.pump()
    _, run = call("GET", "/runs/retried-view-1")
    assert run["run"]["status"] == "FAILED"
    response = _raw_get("/console/runs/retried-view-1/step", {"name": "load"})
    assert response["statusCode"] == 200
    # Before: about 7.5 MB of body: 31 attempts, each traceback (16 K characters, 96 KB as
    # JSON) twice, in "events" and in "attempts".
    body = len(response["body"].encode())
    assert body < LAMBDA_RESPONSE_BYTES, f"{body:,} bytes of body"
    assert _lambda_bytes(response) < LAMBDA_RESPONSE_BYTES


def test_a_page_of_failed_iterations_fits_a_lambda_response(rt: LocalRuntime) -> None:
    wf = {
        "name": "failing_loop_view",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": "${podium.range(0, 500)}"},
                "concurrency": 500,
                "on_failure": "continue",
                "tolerated_failures": 500,
                "steps": [{"id": "load", "type": "lambda", "function": f"{__name__}:invalid"}],
            }
        ],
    }
    assert call("POST", "/workflows", wf)[0] == 201
    assert call("POST", "/workflows/failing_loop_view/runs", {"run_id": "failing-loop-1"})[0] == 202
    rt.pump()
    response = _raw_get("/runs/failing-loop-1/iterations", {"step": "each", "limit": "500"})
    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])["iterations"]) == 500
    # Before: about 6.1 MB of body (each row's error: 2,048 characters, 12 KB as JSON),
    # about 7 MB as Lambda's response.
    size = _lambda_bytes(response)
    assert size < LAMBDA_RESPONSE_BYTES, f"{size:,} bytes"
