"""The API handler answers every failure with the documented JSON 500
(``{"code", "message", "errors", "request_id"}``, docs/operations.md Limits), even when
building its wiring is what failed.

What was wrong: ``handlers/api.py``'s ``finally`` flushed metrics through
``bootstrap.services()``, which builds the wiring when it is not built; when building it
had failed (an unset variable, a client that cannot be made) it raised again, the
route's 500 answer was thrown away, and API Gateway answered a bare ``{"message":
"Internal Server Error"}`` with no request id to report. Now the ``finally`` flushes
only wiring that was built (``bootstrap.built()``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium import bootstrap
from podium.handlers import api


class _Context:
    aws_request_id = "req-unwired"
    function_name = "podium-api"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:podium-api"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("PODIUM_TABLE_NAME", "PODIUM_WORK_QUEUE_URL", "PODIUM_EVENT_QUEUE_URL"):
        monkeypatch.delenv(name, raising=False)
    saved = bootstrap._services
    bootstrap.install(None)
    yield
    bootstrap.install(saved)


def _get(path: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": path, "sourceIp": "203.0.113.1"},
            "requestId": "apigw-unwired",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_a_wiring_failure_is_answered_as_the_documented_500(unconfigured: None) -> None:
    answer = api.handler(_get("/workflows"), _Context())
    assert answer["statusCode"] == 500
    body = json.loads(answer["body"])
    assert body["code"] == "internal_error"
    assert body["request_id"]
