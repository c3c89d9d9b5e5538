"""A signal's 64 KiB payload limit was measured on Python's ASCII-escaped JSON
(json.dumps with ensure_ascii=True), not on the JSON the sender sent: non-ASCII text
counted two to three times its size. It is now measured as UTF-8 JSON, and the stores
keep the largest signal the limits allow."""

from __future__ import annotations

import json

from podium.core.engine.signals import (
    MAX_PARAMS,
    MAX_PAYLOAD_BYTES,
    MAX_REQUEST_ID,
    MAX_STRING_PARAM,
    Signal,
    signal_id,
)
from podium.core.ports import Signals
from podium.local.runtime import LocalRuntime
from tests.contract import test_signals as contract_signals
from tests.integration.test_api import call

DAY = 86_400_000


def payload_bytes(payload: object) -> int:
    """The size the sender sent: its UTF-8 JSON."""
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())


def test_a_24_kb_payload_of_emoji_is_not_refused_as_72_kb(runtime: LocalRuntime) -> None:
    """The bug: core/engine/signals.py check_request measured the payload as
    ``len(json.dumps(payload))``, whose default ensure_ascii=True writes every non-ASCII
    character as a \\uXXXX escape (an emoji as two: 12 bytes). A payload of 6,000 emoji,
    24 KB of JSON (UTF-8) as the sender wrote it and far under the documented limit
    ("payload 64 KiB as JSON", docs/operations.md), was refused by POST /signals with
    "is 72,011 bytes, over the limit of 65,536", a size the sender never sent.

    Expected: the payload is measured as UTF-8 JSON, so this 24 KB payload is stored
    (201)."""
    payload = {"note": "\U0001f600" * 6000}
    body = json.dumps({"name": "big", "payload": payload}, ensure_ascii=False)
    assert len(json.dumps(payload, ensure_ascii=False).encode()) < 25_000
    status, answer = call("POST", "/signals", body)
    assert status == 201, answer
    assert answer["payload"] == payload


def test_a_payload_over_64_kib_of_utf8_is_still_refused(runtime: LocalRuntime) -> None:
    """The limit holds on the new measure: a payload of exactly 64 KiB of UTF-8 JSON is
    stored, one byte more is refused, with the size the sender sent."""
    payload = "é" * ((MAX_PAYLOAD_BYTES - 2) // 2)  # 65,536 bytes with its quotes
    assert payload_bytes(payload) == MAX_PAYLOAD_BYTES
    status, _ = call("POST", "/signals", json.dumps({"name": "fits", "payload": payload}))
    assert status == 201
    over = payload + "x"
    status, answer = call("POST", "/signals", json.dumps({"name": "over", "payload": over}))
    assert status == 400, answer
    assert "is 65,537 bytes, over the limit of 65,536" in json.dumps(answer), answer


# The signal stores of the contract suite: memory, SQLite, DynamoDB on moto.
signals = contract_signals.signals


def test_the_largest_signal_the_limits_allow_is_stored_by_every_adapter(
    signals: Signals,
) -> None:
    """The worst case of the new measure: a payload of 64 KiB of UTF-8 JSON in 2-byte
    characters (three times as long ASCII-escaped), 20 params of 1,024 emoji (12 bytes
    each escaped) and a request id of 256 emoji. Stored ASCII-escaped, DynamoDB's
    identity item came to about 450 KB, over its 400 KB item limit ("Item size has
    exceeded the maximum allowed size"); it is stored as UTF-8 (about 150 KB)."""
    emoji = "\U0001f600"
    payload = "é" * ((MAX_PAYLOAD_BYTES - 2) // 2)
    assert payload_bytes(payload) == MAX_PAYLOAD_BYTES
    params: dict[str, str | int] = {
        f"p{i:02d}": emoji * MAX_STRING_PARAM for i in range(MAX_PARAMS)
    }
    request_id = emoji * MAX_REQUEST_ID
    # Built directly (check_request accepts it: the test above), so that the store is
    # tested on its own.
    signal = Signal(
        name="worst",
        params=params,
        signal_id=signal_id("worst", params, request_id),
        sent_at=1_000,
        expires_at=1_000 + DAY,
        payload=payload,
        request_id=request_id,
    )
    _, created = signals.send(signal)
    assert created
    got = signals.get(signal.signal_id, now=2_000)
    assert got is not None
    assert got.payload == payload and got.params == params
    assert got.request_id == emoji * MAX_REQUEST_ID
