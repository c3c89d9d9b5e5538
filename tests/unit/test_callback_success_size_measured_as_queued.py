"""A callback's ``success`` output was measured with json.dumps' default ``", "`` and
``": "`` separators (service/callbacks.py ``parse_callback``), so an output of 140 KB
as it travels in its done message was refused as 210 KB, over the 200,000 bytes
documented. It is measured as queued: compact JSON, non-ASCII characters escaped (the
queue message's own form, whose 256 KB is the bound that matters)."""

from __future__ import annotations

import json

import pytest

from podium.service.api_requests import RequestError
from podium.service.callbacks import MAX_CALLBACK_OUTPUT_BYTES, parse_callback


def test_an_output_under_the_limit_as_compact_json_is_accepted() -> None:
    """70,000 zeros: 140,001 bytes compact, 210,000 with ", " separators (refused)."""
    output = [0] * 70_000
    assert len(json.dumps(output, separators=(",", ":"))) < MAX_CALLBACK_OUTPUT_BYTES
    request = parse_callback({"success": output})
    assert request.output == output


def test_non_ascii_counts_as_it_is_queued() -> None:
    """40,000 CJK characters are 120,002 bytes of UTF-8 but 240,002 as the queue message
    carries them (\\uXXXX): refused, naming that size, as a 200,000-byte UTF-8 output
    of emoji would be 600 KB in the message, past SQS's 256 KB."""
    with pytest.raises(RequestError) as refused:
        parse_callback({"success": "中" * 40_000})
    assert "the output is 240,002 bytes as JSON" in str(refused.value.message), refused.value
