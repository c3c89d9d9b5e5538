"""Both function runners send the event as the same JSON: timestamps, durations and bytes
in the forms templates print, and a value with no JSON form (NaN) refused before any
call as a user error that is never retried (it was a PlatformError, retried for an hour)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from podium.adapters.runners import LambdaFunctionRunner, LocalFunctionRunner
from podium.core.ports import Invocation, InvocationResult

HERE = "tests.unit.test_runner_event_json"
SEEN: list[dict[str, Any]] = []

TYPED = {
    "payload": {
        "start": datetime(2024, 5, 1, 10, tzinfo=UTC),
        "d": timedelta(minutes=90),
        "b": b"ab",
        "n": [1, 2.5, None],
    }
}
AS_JSON = {
    "payload": {"start": "2024-05-01T10:00:00Z", "d": "5400s", "b": "YWI=", "n": [1, 2.5, None]}
}
NAN = {"payload": {"start": "x", "ratio": float("nan")}}


def record(event: dict[str, Any]) -> str:
    SEEN.append(event)
    return "ok"


class RecordingLambda:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)

        class Body:
            def read(self) -> bytes:
                return b'"ok"'

        return {"StatusCode": 200, "Payload": Body(), "ResponseMetadata": {"RequestId": "r"}}


def refused(result: InvocationResult) -> None:
    assert not result.ok and not result.retryable
    assert result.error_type == "Podium.UserError"
    assert result.error is not None and "NaN at payload.ratio has no JSON form" in result.error


def test_lambda_gets_typed_values_in_their_json_forms() -> None:
    client = RecordingLambda()
    runner = LambdaFunctionRunner(client)
    assert runner.invoke(Invocation("f", TYPED, "r/s/1")).ok
    assert runner.invoke_async(Invocation("f", TYPED, "r/s/1")).ok
    assert [json.loads(c["Payload"]) for c in client.calls] == [AS_JSON, AS_JSON]


@pytest.mark.parametrize("how", ["invoke", "invoke_async"])
def test_lambda_is_not_called_with_nan_and_the_step_is_not_retried(how: str) -> None:
    client = RecordingLambda()
    refused(getattr(LambdaFunctionRunner(client), how)(Invocation("f", NAN, "r/s/1")))
    assert client.calls == []


def test_a_local_function_gets_what_a_deployed_one_would() -> None:
    SEEN.clear()
    result = LocalFunctionRunner().invoke(Invocation(f"{HERE}:record", TYPED, "r/s/1"))
    assert result.ok and SEEN == [AS_JSON]


@pytest.mark.parametrize("how", ["invoke", "invoke_async"])
def test_a_local_function_is_not_called_with_nan(how: str) -> None:
    SEEN.clear()
    runner = LocalFunctionRunner()
    refused(getattr(runner, how)(Invocation(f"{HERE}:record", NAN, "r/s/1")))
    assert SEEN == []
