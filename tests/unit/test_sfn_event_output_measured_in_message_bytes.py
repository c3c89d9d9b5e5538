"""A Step Functions status-change event's output is carried in the ``done`` message only
when it is small (else the runtime reads it from the execution). It was measured in
characters (at most 64 Ki), but the message is JSON with ASCII escapes: a quote is 2
bytes, a non-ASCII character 6 (12 beyond the BMP), so an output of 60 Ki such
characters made a message over SQS's 256 KiB, which the queue refused."""

from __future__ import annotations

import json

from podium.service.external_events import _sfn_trim

QUEUE_MESSAGE_LIMIT = 256 * 1024


def detail(output: str) -> dict[str, object]:
    return {
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:run1.step.1",
        "name": "run1.step.1",
        "status": "SUCCEEDED",
        "output": output,
        "outputDetails": {"included": True},
    }


def test_an_output_of_many_escaped_characters_is_left_out() -> None:
    output = json.dumps({"text": "日本語" * 20_000}, ensure_ascii=False)  # 60 Ki characters
    trimmed = _sfn_trim(detail(output))
    assert "output" not in trimmed  # read from the execution instead
    assert len(json.dumps(trimmed)) < QUEUE_MESSAGE_LIMIT


def test_a_small_output_is_kept() -> None:
    output = json.dumps({"rows": list(range(100)), "name": "café"}, ensure_ascii=False)
    assert _sfn_trim(detail(output))["output"] == output
