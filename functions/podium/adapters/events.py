"""Events adapters: run status changes to an EventBridge bus, or kept in memory.

Every event is ``source: podium``, ``detail-type: Podium Run Status Change`` with the
run's id, workflow, version, status, error, trigger and times (docs/events.md). A
replayed follow-up may publish the same change twice: EventBridge itself delivers at
least once, so consumers de-duplicate on ``detail.run_id`` + ``detail.status``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from podium.core.engine.text_fields import utf8_json
from podium.core.ports import EVENT_SOURCE

SOURCE = EVENT_SOURCE
_BATCH = 10  # PutEvents takes at most 10 entries


class EventBridgeEvents:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._events = client
        self._bus = bus_name

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(events), _BATCH):
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": str(e["detail-type"]),
                    # UTF-8 (a signal's 64 KiB is measured so; \u escapes of CJK text
                    # would pass EventBridge's 256 KB entry limit)
                    "Detail": utf8_json(e["detail"], default=str).decode(),
                    "EventBusName": self._bus,
                }
                for e in events[start : start + _BATCH]
            ]
            for _ in range(3):
                resp = self._events.put_events(Entries=entries)
                if not resp.get("FailedEntryCount"):
                    break
                entries = [
                    entry
                    for entry, result in zip(entries, resp["Entries"], strict=False)
                    if "ErrorCode" in result
                ]
            else:
                raise RuntimeError(f"EventBridge refused {len(entries)} events to {self._bus}")


class MemoryEvents:
    """Keeps what was published (the embedded runtime prints or inspects them, and
    offers them to the triggers on Podium's bus: ``take_unrouted``)."""

    def __init__(self, keep: int | None = None) -> None:
        self._lock = threading.Lock()
        self.published: list[dict[str, Any]] = []
        self._routed = 0  # how many of ``published`` were taken by take_unrouted
        # At most this many kept once routed (a long-running ``podium dev``); None: all.
        self.keep = keep

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            self.published.extend(dict(e) for e in events)

    def take_unrouted(self) -> list[dict[str, Any]]:
        """What was published since the last call, as EventBridge would deliver it from
        Podium's bus (``source`` podium, an ``id``, a ``time``)."""
        with self._lock:
            new = self.published[self._routed :]
            self._routed = len(self.published)
            if self.keep is not None and len(self.published) > self.keep:
                drop = len(self.published) - self.keep  # the oldest, all routed
                del self.published[:drop]
                self._routed -= drop
        return [{"source": SOURCE, **e} for e in new]
