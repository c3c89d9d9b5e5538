"""docs/events.md ("Signals in") did not say what payload a signal sent as an event on
Podium's bus may carry. It says now what the events function enforces: the API's limit,
64 KiB of JSON counted in UTF-8 bytes (``core/engine/signals.py`` ``MAX_PAYLOAD_BYTES``),
a larger payload (which EventBridge's 256 KB entry lets through) dropped with metric
``EventsDropped``. These pin that statement (the code was right; the docs were silent)."""

from __future__ import annotations

from typing import Any

from podium.core.engine.signals import MAX_PAYLOAD_BYTES
from podium.handlers import events
from podium.local.runtime import LocalRuntime

EMOJI = "\U0001f600"  # 4 bytes in UTF-8, 12 as its escapes


def _on_the_bus(event_id: str, payload: Any) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": event_id,
        "source": "my.app",
        "detail-type": "podium.signal",
        "detail": {"name": "ready", "payload": payload, "request_id": event_id},
    }
    return {"podium_bus": "podium", "event": event}  # as the construct's rule wraps it


def test_a_bus_signal_payload_is_limited_to_64_kib_of_utf8(runtime: LocalRuntime) -> None:
    # 60 KiB in UTF-8 (180 KiB escaped): under EventBridge's 256 KB entry and kept.
    kept = events.handler(_on_the_bus("e1", EMOJI * (60 * 1024 // 4)), None)
    assert kept["matched"] == 1 and kept["created"] is True, kept
    # Just over 64 KiB in UTF-8 (still well under 256 KB): dropped, said in the log only.
    over = "x" * (MAX_PAYLOAD_BYTES + 1)
    dropped = events.handler(_on_the_bus("e2", over), None)
    assert dropped["dropped"] == 1 and "over the limit of 65,536" in dropped["error"], dropped
