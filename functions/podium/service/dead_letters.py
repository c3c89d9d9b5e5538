"""Dead letters: messages a queue gave up on after 5 failed receives (a poison message,
or a bug met on every try). Operators list them, fix the cause, and redrive them to the
queue they came from; every handler is idempotent, so a redriven message that was
handled meanwhile does nothing (docs/operations.md has the runbook).

Two places hold them: the SQS DLQs of a deployed stack (adapters/sqs_dead_letters.py)
and the local home's dead-letter queues (adapters/sqlite/dead_letters.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

MAX_LIST = 100


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
            return f"event {data.get('detail-type', '?')} from {data.get('source', '?')}"
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


class DeadLetterQueues(Protocol):
    def peek(self, limit: int) -> list[DeadLetter]:
        """The dead letters, left where they are."""
        ...

    def redrive(self, limit: int) -> list[DeadLetter]:
        """Move dead letters back to the queue they came from; returns those moved.
        Messages with no queue to go back to (the trigger DLQ) stay."""
        ...


@dataclass(frozen=True)
class Redrive:
    moved: list[DeadLetter]
    dry_run: bool

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "messages": [m.as_json() for m in self.moved]}


def redrive(queues: DeadLetterQueues, *, dry_run: bool, limit: int = MAX_LIST) -> Redrive:
    """``dry_run``: the messages a redrive would move, moving none."""
    if dry_run:
        return Redrive([m for m in queues.peek(limit) if m.queue != "trigger"], True)
    return Redrive(queues.redrive(limit), False)
