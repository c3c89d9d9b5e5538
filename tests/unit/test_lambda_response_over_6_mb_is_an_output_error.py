"""A deployed lambda step whose output was over Lambda's 6 MB synchronous response.

An output that cannot be stored fails with ``Podium.OutputError``, "never retried: the
same code gives the same output" (core/engine/outputs.py). A deployed lambda step's
output comes back in Lambda's Invoke response, which stops at 6 MB: Lambda answers
``FunctionError: Unhandled`` with ``errorType: Function.ResponseSizeTooLarge``.
adapters/runners.py ``LambdaFunctionRunner._result`` took that for an error of the
function's code: its type was kept and it was retryable, so a step with ``retries: 3``
ran the whole function three more times to get the same refusal, and nothing said
where to put a large result."""

from __future__ import annotations

import io
import json
from typing import Any

from podium.adapters.runners import LambdaFunctionRunner
from podium.core.engine.outputs import OUTPUT_ERROR
from podium.core.ports import Invocation

# What Lambda answers a RequestResponse Invoke whose function returned more than 6 MB.
TOO_LARGE = {
    "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
    "errorType": "Function.ResponseSizeTooLarge",
}


class OversizedResponse:
    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": io.BytesIO(json.dumps(TOO_LARGE).encode()),
            "ResponseMetadata": {"RequestId": "req-7"},
        }


def test_an_output_over_lambdas_6_mb_is_an_output_error_not_retried() -> None:
    """A function that returned 7 MB failed its attempt as a retryable
    ``Function.ResponseSizeTooLarge`` (a step's ``retries``/``Podium.ALL`` retriers
    reran it for the same result). It fails as ``Podium.OutputError``, not retried,
    saying the deployed limit is Lambda's 6 MB and to write large results to S3."""
    result = LambdaFunctionRunner(OversizedResponse()).invoke(Invocation("etl-load", {}, "r/s/1"))
    assert not result.ok
    assert (result.error_type, result.retryable) == (OUTPUT_ERROR, False), (
        result.error_type,
        result.retryable,
        result.error,
    )
    assert result.request_id == "req-7"
    assert result.error is not None
    assert "6 MB" in result.error and "S3" in result.error, result.error
