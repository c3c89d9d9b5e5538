"""Redriving dead letters: operators list the messages a queue gave up on, fix the cause,
and redrive them to the queue they came from; every handler is idempotent, so a redriven
message that was handled meanwhile does nothing (docs/operations.md has the runbook).

The message itself is core/dead_letters.py's ``DeadLetter``; the places that hold them
implement core/ports.py's ``DeadLetterQueues``: the SQS DLQs of a deployed stack
(adapters/sqs_dead_letters.py) and the local home's dead-letter queues
(adapters/sqlite/dead_letters.py). Both are re-exported here for the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podium.core.dead_letters import DeadLetter, DeadLetterCount
from podium.core.ports import DeadLetterQueues

__all__ = [
    "MAX_LIST",
    "MAX_MOVE",
    "DeadLetter",
    "DeadLetterCount",
    "DeadLetterQueues",
    "Purge",
    "Redrive",
    "purge",
    "redrive",
]

MAX_LIST = 100  # printed
# Moved or deleted by one command: an outage's backlog goes in one go, and a DLQ that
# fills as fast as it is drained (a cause not fixed) does not keep the command forever.
MAX_MOVE = 10_000
_PAGE = 1_000


@dataclass(frozen=True)
class Redrive:
    moved: list[DeadLetter]  # all of them (the CLI prints some)
    dry_run: bool
    # What is left in each DLQ after it (before it, for a dry run: what it would move).
    left: list[DeadLetterCount] = field(default_factory=list)
    capped: bool = False  # it stopped at MAX_MOVE: run it again for the rest

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "count": len(self.moved),
            "messages": [m.as_json() for m in self.moved],
            "left": [c.as_json() for c in self.left],
            "capped": self.capped,
        }


def _drain(step: Callable[[int], list[DeadLetter]], budget: int) -> list[DeadLetter]:
    """Call ``step(n)`` (moves or deletes up to n) page after page until it finds none."""
    done: list[DeadLetter] = []
    while len(done) < budget:
        page = step(min(_PAGE, budget - len(done)))
        done.extend(page)
        if not page:
            break
    return done


def redrive(
    queues: DeadLetterQueues, *, dry_run: bool, limit: int = MAX_LIST, most: int | None = None
) -> Redrive:
    """Move every redrivable dead letter back (up to ``most``, MAX_MOVE by default);
    ``dry_run``: up to ``limit`` of those a redrive would move, moving none."""
    if dry_run:
        return Redrive(queues.peek(limit, redrivable_only=True), True, queues.counts())
    most = MAX_MOVE if most is None else most
    moved = _drain(queues.redrive, most)
    return Redrive(moved, False, queues.counts(), capped=len(moved) >= most)


@dataclass(frozen=True)
class Purge:
    queue: str
    deleted: list[DeadLetter]
    left: DeadLetterCount

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "count": len(self.deleted),
            "messages": [m.as_json() for m in self.deleted],
            "left": self.left.as_json(),
        }


def purge(queues: DeadLetterQueues, queue: str, *, most: int | None = None) -> Purge:
    """Delete the dead letters of ``queue`` (up to ``most``, MAX_MOVE by default), once
    they were dealt with."""
    deleted = _drain(lambda n: queues.purge(queue, n), MAX_MOVE if most is None else most)
    (left,) = [c for c in queues.counts() if c.queue == queue]
    return Purge(queue, deleted, left)
