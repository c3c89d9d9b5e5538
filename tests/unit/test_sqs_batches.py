"""Regression: batches processed at the same time on several threads (podium dev, the
local workers) each report their own failures. A processor shared by the module let one
batch's start clear another's failure list, so a failed message was deleted and lost."""

from __future__ import annotations

import json
import threading
from typing import Any

from podium.handlers._sqs import run_batch


def record(message_id: str, body: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS record as Lambda hands it over (a str body: as it is, not JSON)."""
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q",
        "awsRegion": "us-east-1",
    }


class _Ctx:
    class metrics:
        @staticmethod
        def flush() -> None:
            return None


def test_concurrent_batches_keep_their_own_failures() -> None:
    waiting, release = threading.Event(), threading.Event()

    def handle(ctx: Any, body: dict[str, Any]) -> None:
        if body["kind"] == "boom":
            raise RuntimeError("this message must be retried")
        if body["kind"] == "wait":
            waiting.set()
            release.wait(5)

    first = {"Records": [record("m1", {"kind": "boom"}), record("m2", {"kind": "wait"})]}
    second = {"Records": [record("m3", {"kind": "ok"})]}
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(run_batch(first, None, _Ctx(), handle))  # type: ignore[arg-type]
    )
    worker.start()
    assert waiting.wait(5)
    other = run_batch(second, None, _Ctx(), handle)  # type: ignore[arg-type]
    release.set()
    worker.join(5)
    assert other["batchItemFailures"] == []
    assert result["batchItemFailures"] == [{"itemIdentifier": "m1"}]
