"""Events adapters: run status changes to an EventBridge bus, or kept in memory.

Every event is ``source: podium``, ``detail-type: Podium Run Status Change`` with the
run's id, workflow, version, status, error, trigger and times (docs/events.md). A
replayed follow-up may publish the same change twice: EventBridge itself delivers at
least once, so consumers de-duplicate on ``detail.run_id`` + ``detail.status``.

PutEvents may accept some entries of a call and refuse others (``FailedEntryCount``,
an ``ErrorCode`` per refused entry); botocore retries only a call that failed whole.
The refused entries alone are put again when their code says the refusal passes
(throttled, EventBridge's own fault), after a wait that doubles each time; any other
code (access denied, an invalid or malformed entry) would be refused again, and is
raised at once as ``EventsRefused`` naming the code and EventBridge's message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from podium.core.engine.external import is_transient
from podium.core.engine.text_fields import utf8_json
from podium.core.errors import EventsRefused
from podium.core.ports import EVENT_SOURCE

SOURCE = EVENT_SOURCE
_BATCH = 10  # PutEvents takes at most 10 entries
# PutEvents calls for a batch whose entries are refused for a passing reason: the
# waits between them double from _BACKOFF_S up to _MAX_BACKOFF_S (1.5 s in all at
# most: a publish runs inside a Lambda's delivery of a message).
_TRIES = 5
_BACKOFF_S = 0.1
_MAX_BACKOFF_S = 1.0


class EventBridgeEvents:
    def __init__(
        self, client: Any, bus_name: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._events = client
        self._bus = bus_name
        self._sleep = sleep  # the backoff's wait (tests pass one that does not wait)

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
            self._put(entries)

    def _put(self, entries: list[dict[str, Any]]) -> None:
        """Put one batch: its refused entries again while their refusals pass."""
        last: Mapping[str, Any] = {}
        for attempt in range(_TRIES):
            if attempt:
                self._sleep(min(_MAX_BACKOFF_S, _BACKOFF_S * 2 ** (attempt - 1)))
            resp = self._events.put_events(Entries=entries)
            # The answer's entries are in the request's order: a refused one has a code.
            refused = [
                (entry, result)
                for entry, result in zip(entries, resp.get("Entries") or [], strict=False)
                if resp.get("FailedEntryCount") and result.get("ErrorCode")
            ]
            if not refused:
                return
            for _, result in refused:
                if not is_transient(str(result["ErrorCode"])):
                    raise self._refused(result, len(refused), retryable=False)
            entries, last = [entry for entry, _ in refused], refused[0][1]
        raise self._refused(last, len(entries), retryable=True)

    def _refused(self, result: Mapping[str, Any], count: int, *, retryable: bool) -> EventsRefused:
        code = str(result["ErrorCode"])
        return EventsRefused(
            self._bus, code, str(result.get("ErrorMessage") or ""), count, retryable=retryable
        )


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
