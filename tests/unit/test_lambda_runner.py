"""The Lambda runner on a stub client: request ids (where an attempt's logs are), error
types, timeouts and platform failures."""

from __future__ import annotations

import io
import json
from typing import Any

from podium.adapters.runners import LambdaFunctionRunner
from podium.core.ports import Invocation


class StubLambda:
    def __init__(self, payload: Any, function_error: str | None = None) -> None:
        self.payload, self.function_error = payload, function_error

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        resp: dict[str, Any] = {
            "Payload": io.BytesIO(json.dumps(self.payload).encode()),
            "ResponseMetadata": {"RequestId": "req-7"},
        }
        if self.function_error:
            resp["FunctionError"] = self.function_error
        return resp


CALL = Invocation("etl-load", {}, "r/s/1")


def test_the_request_id_is_kept_with_the_result() -> None:
    result = LambdaFunctionRunner(StubLambda({"rows": 3})).invoke(CALL)
    assert result.ok and result.output == {"rows": 3} and result.request_id == "req-7"


def test_a_function_error_keeps_its_type_trace_and_request_id() -> None:
    body = {"errorType": "KeyError", "errorMessage": "'id'", "stackTrace": ["a\\n", "b\\n"]}
    result = LambdaFunctionRunner(StubLambda(body, "Unhandled")).invoke(CALL)
    assert not result.ok and result.error_type == "KeyError" and result.request_id == "req-7"
    assert result.traceback == "a\\nb\\n"


def test_a_lambda_timeout_is_a_podium_timeout() -> None:
    body = {"errorMessage": "2026-12-01 Task timed out after 3.00 seconds"}
    result = LambdaFunctionRunner(StubLambda(body, "Unhandled")).invoke(CALL)
    assert result.error_type == "Podium.Timeout"


def test_throttling_is_a_platform_error() -> None:
    class Throttled:
        def invoke(self, **kwargs: Any) -> Any:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "TooManyRequestsException"}}, "Invoke")

    result = LambdaFunctionRunner(Throttled()).invoke(CALL)
    assert result.error_type == "Podium.PlatformError" and result.retryable


class RecordingLambda:
    def __init__(self, error_code: str | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error_code = error_code

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error_code:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": self.error_code, "Message": "no"}}, "Invoke")
        return {"StatusCode": 202}


def test_an_async_invoke_is_an_event_invocation_with_the_callback_token() -> None:
    client = RecordingLambda()
    call = Invocation("train", {"callback_token": "pcb1_x"}, "r/s/1")
    assert LambdaFunctionRunner(client).invoke_async(call).ok
    (sent,) = client.calls
    assert sent["InvocationType"] == "Event" and sent["FunctionName"] == "train"
    assert json.loads(sent["Payload"]) == {"callback_token": "pcb1_x"}
    refused = LambdaFunctionRunner(RecordingLambda(), frozenset({"other"})).invoke_async(call)
    assert not refused.ok and refused.error_type == "Podium.FunctionNotAllowed"
    throttled = LambdaFunctionRunner(RecordingLambda("TooManyRequestsException")).invoke_async(call)
    assert not throttled.ok and throttled.error_type == "Podium.PlatformError"
    missing = LambdaFunctionRunner(RecordingLambda("ResourceNotFoundException")).invoke_async(call)
    assert not missing.ok and not missing.retryable


def test_a_function_of_another_region_is_invoked_through_that_regions_client() -> None:
    """Lambda answers only for its own region's functions ("Functions from 'eu-west-1'
    are not reachable in this region ('us-east-1')"), and the runner sent every ARN to
    the deployment's client: an allowed (and granted) function ARN of another region
    could never be invoked. It goes through a client of its region now, made once;
    a name, a partial ARN or an ARN of the deployment's region keep the own client.
    Real botocore clients, their requests answered by botocore's Stubber."""
    import boto3
    from botocore.stub import Stubber

    def client(region: str) -> Any:
        return boto3.client(
            "lambda", region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
        )

    home, made = client("us-east-1"), []

    def client_for_region(region: str) -> Any:
        made.append(region)
        other = client(region)
        stub = Stubber(other)
        for _ in range(2):
            stub.add_response("invoke", {"StatusCode": 200, "Payload": io.BytesIO(b'"west"')})
        stub.activate()
        return other

    own = Stubber(home)
    for _ in range(3):
        own.add_response("invoke", {"StatusCode": 200, "Payload": io.BytesIO(b'"east"')})
    own.activate()
    runner = LambdaFunctionRunner(home, client_for_region=client_for_region)
    west = "arn:aws:lambda:eu-west-1:123456789012:function:etl"
    east = "arn:aws:lambda:us-east-1:123456789012:function:etl"
    outputs = [
        runner.invoke(Invocation(ref, {}, "r/s/1")).output
        for ref in (west, "etl", east, f"{west}:prod", "123456789012:function:etl")
    ]
    assert outputs == ["west", "east", "east", "west", "east"]
    assert made == ["eu-west-1"]
