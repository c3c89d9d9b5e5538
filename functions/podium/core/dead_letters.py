"""A dead letter: a message a queue gave up on after 5 failed receives (a poison message,
or a bug met on every try), and what it was for.

The SQS DLQs of a deployed stack (adapters/sqs_dead_letters.py) and the local home's
dead-letter queues (adapters/sqlite/dead_letters.py) hold them, behind the
``DeadLetterQueues`` port (core/ports.py); service/dead_letters.py redrives them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeadLetter:
    queue: str  # "work", "event" or "trigger"
    message_id: str
    body: str
    receive_count: int | None = None

    def parsed(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def summary(self) -> str:
        """What the message was for: ``exec RUN/STEP#N``, ``done ...``, ``start RUN``."""
        data = self.parsed()
        if data is None:
            return "not JSON: " + self.body[:80]
        if "t" not in data:  # an EventBridge event (the trigger DLQ)
            event = data.get("event")
            if "podium_bus" in data and isinstance(event, dict):
                # A named bus's (or Podium's own) rule target wraps the event it delivers.
                data = event
            return f"event {data.get('detail-type', '?')} from {data.get('source', '?')}"
        if "wf" in data and "run" not in data:  # a trigger's fire, a backfill's driver
            at = f" at {data['at']}" if "at" in data else ""
            return f"{data['t']} {data['wf']}/{data.get('tr', '?')}{at}"
        where = str(data.get("run", "?"))
        if "step" in data:
            where += f"/{data['step']}"
        if "attempt" in data:
            where += f"#{data['attempt']}"
        return f"{data['t']} {where}"

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "message_id": self.message_id,
            "summary": self.summary(),
            "body": self.parsed() or self.body,
            "receive_count": self.receive_count,
        }


@dataclass(frozen=True)
class DeadLetterCount:
    """How many dead letters a DLQ holds: ``waiting`` can be read now; ``in_flight`` were
    received and are hidden for a while (another ``podium dlq`` command reading them): a
    redrive or purge meanwhile passes them by. SQS's counts are approximate."""

    queue: str
    waiting: int
    in_flight: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.queue, "waiting": self.waiting, "in_flight": self.in_flight}


def share_limit(limit: int, waiting: Mapping[str, int]) -> dict[str, int]:
    """Split ``limit`` between queues by what each holds: each gets an equal share, and
    a share a queue cannot fill goes to the others; so one full DLQ cannot hide that
    another holds dead letters."""
    quota = dict.fromkeys(waiting, 0)
    left = limit
    open_ = [q for q in sorted(waiting) if waiting[q] > 0]
    while left > 0 and open_:
        each = max(1, left // len(open_))
        for q in list(open_):
            give = min(each, waiting[q] - quota[q], left)
            quota[q] += give
            left -= give
            if quota[q] >= waiting[q]:
                open_.remove(q)
            if left == 0:
                break
    return quota
