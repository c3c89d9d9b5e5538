"""A dead letter: a message a queue gave up on after 5 failed receives (a poison message,
or a bug met on every try), and what it was for.

The SQS DLQs of a deployed stack (adapters/sqs_dead_letters.py) and the local home's
dead-letter queues (adapters/sqlite/dead_letters.py) hold them, behind the
``DeadLetterQueues`` port (core/ports.py); service/dead_letters.py redrives them.
"""

from __future__ import annotations

import json
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
