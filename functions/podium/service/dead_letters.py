"""Redriving dead letters: operators list the messages a queue gave up on, fix the cause,
and redrive them to the queue they came from; every handler is idempotent, so a redriven
message that was handled meanwhile does nothing (docs/operations.md has the runbook).

The message itself is core/dead_letters.py's ``DeadLetter``; the places that hold them
implement core/ports.py's ``DeadLetterQueues``: the SQS DLQs of a deployed stack
(adapters/sqs_dead_letters.py) and the local home's dead-letter queues
(adapters/sqlite/dead_letters.py). Both are re-exported here for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.core.dead_letters import DeadLetter
from podium.core.ports import DeadLetterQueues

__all__ = ["MAX_LIST", "DeadLetter", "DeadLetterQueues", "Redrive", "redrive"]

MAX_LIST = 100


@dataclass(frozen=True)
class Redrive:
    moved: list[DeadLetter]
    dry_run: bool

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "messages": [m.as_json() for m in self.moved]}


def redrive(queues: DeadLetterQueues, *, dry_run: bool, limit: int = MAX_LIST) -> Redrive:
    """``dry_run``: the messages a redrive would move, moving none."""
    if dry_run:
        return Redrive(queues.peek(limit, redrivable_only=True), True)
    return Redrive(queues.redrive(limit), False)
