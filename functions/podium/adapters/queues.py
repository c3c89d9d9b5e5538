"""MessageQueue adapters: SQS, and an in-process queue with SQS's semantics.

The in-process queue backs the embedded runtime: moto's SQS recounts every message on
each call and slows to a crawl with hundreds waiting. It keeps what the engine relies on:
at-least-once delivery, delays, a visibility timeout, a receive limit and a DLQ.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podium.core.ports import Clock

SQS_MAX_DELAY_SECONDS = 900
_BATCH = 10
_CHUNK = 64 * 1024  # SQS bills each 64 KB of a request's payload as one request


def _body(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def billed_requests(bodies: Sequence[str]) -> int:
    """The requests SQS would bill to send ``bodies``: one SendMessageBatch per 10 (one
    SendMessage for one), each billed per 64 KB chunk of its payload, at least one."""
    total = 0
    for start in range(0, len(bodies), _BATCH):
        size = sum(len(b.encode()) for b in bodies[start : start + _BATCH])
        total += max(1, -(-size // _CHUNK))
    return total


class SqsQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.url = queue_url

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        self._sqs.send_message(
            QueueUrl=self.url,
            MessageBody=_body(message),
            DelaySeconds=min(delay_seconds, SQS_MAX_DELAY_SECONDS),
        )

    def send_many(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), _BATCH):
            entries = [
                {"Id": str(i), "MessageBody": _body(m)}
                for i, m in enumerate(messages[start : start + _BATCH])
            ]
            for _ in range(3):
                resp = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
                failed = {f["Id"] for f in resp.get("Failed", [])}
                if not failed:
                    break
                entries = [e for e in entries if e["Id"] in failed]
            else:
                raise RuntimeError(f"SQS refused {len(entries)} messages to {self.url}")


@dataclass
class LocalMessage:
    message_id: str
    body: str
    receive_count: int = 0
    receipt: str = ""


class LocalQueue:
    """A thread-safe in-process queue with SQS semantics (see module doc)."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        visibility_timeout_seconds: int = 60,
        max_receives: int = 5,
        dead_letters: LocalQueue | None = None,
    ) -> None:
        self.name = name
        self._clock = clock
        self._visibility_ms = visibility_timeout_seconds * 1000
        self._max_receives = max_receives
        self._dlq = dead_letters
        self._lock = threading.Lock()
        self._heap: list[tuple[int, int, str, int]] = []  # (visible_at, seq, id, generation)
        self._messages: dict[str, tuple[LocalMessage, int]] = {}
        self._seq = itertools.count()
        self.sent = 0  # messages
        self.send_requests = 0  # what SQS would bill (billed_requests)

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        body = _body(message)
        self.send_requests += billed_requests([body])
        self._put(body, min(delay_seconds, SQS_MAX_DELAY_SECONDS))

    def send_many(self, messages: Sequence[Mapping[str, Any]]) -> None:
        bodies = [_body(m) for m in messages]
        self.send_requests += billed_requests(bodies)
        for body in bodies:
            self._put(body, 0)

    def _put(self, body: str, delay_seconds: int) -> None:
        with self._lock:
            seq = next(self._seq)
            msg = LocalMessage(f"{self.name}-{seq}", body)
            self._messages[msg.message_id] = (msg, 0)
            visible = self._clock.now_ms() + delay_seconds * 1000
            heapq.heappush(self._heap, (visible, seq, msg.message_id, 0))
            self.sent += 1

    def receive(self, max_messages: int = 10) -> list[LocalMessage]:
        out: list[LocalMessage] = []
        dead: list[LocalMessage] = []
        with self._lock:
            now = self._clock.now_ms()
            while self._heap and len(out) < max_messages and self._heap[0][0] <= now:
                _, _, mid, gen = heapq.heappop(self._heap)
                entry = self._messages.get(mid)
                if entry is None or entry[1] != gen:
                    continue  # deleted, or superseded by a later receive
                msg = entry[0]
                msg.receive_count += 1
                if msg.receive_count > self._max_receives and self._dlq is not None:
                    del self._messages[mid]
                    dead.append(msg)
                    continue
                gen += 1
                msg.receipt = f"{mid}#{gen}"
                self._messages[mid] = (msg, gen)
                heapq.heappush(self._heap, (now + self._visibility_ms, next(self._seq), mid, gen))
                out.append(msg)
        for msg in dead:
            assert self._dlq is not None
            self._dlq._put(msg.body, 0)
        return out

    def delete(self, receipt: str) -> None:
        mid, _, gen = receipt.rpartition("#")
        with self._lock:
            entry = self._messages.get(mid)
            if entry is not None and entry[1] == int(gen):
                del self._messages[mid]

    def delete_many(self, receipts: list[str]) -> None:
        """A batch's handled messages (SQS's DeleteMessageBatch)."""
        for receipt in receipts:
            self.delete(receipt)

    def next_visible_at(self) -> int | None:
        with self._lock:
            live = [
                visible
                for visible, _, mid, gen in self._heap
                if mid in self._messages and self._messages[mid][1] == gen
            ]
            return min(live) if live else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(m.body) for m, _ in self._messages.values()]
