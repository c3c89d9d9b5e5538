"""The queue messages: small JSON documents, one kind per purpose.

work queue:  {"t": "exec",  "run": id, "step": path, "attempt": n[, "c": 1]}
             ("c": the step has no item yet: the worker's claim creates it)
event queue: {"t": "start", "run": id}
             {"t": "timer", "run": id, "step": path, "attempt": n}
Any message may carry "nb" (not before, epoch ms): SQS delays stop at 15 minutes, so a
longer wait is re-sent until it is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class BadMessage(ValueError):
    """Unparseable or unknown: goes to the DLQ after its receives, never loops forever."""


@dataclass(frozen=True, slots=True)
class Exec:
    run: str
    step: str
    attempt: int
    create: bool = False


@dataclass(frozen=True, slots=True)
class Start:
    run: str


@dataclass(frozen=True, slots=True)
class Timer:
    run: str
    step: str
    attempt: int


Message = Exec | Start | Timer


def encode(msg: Message, not_before: int | None = None) -> dict[str, Any]:
    body: dict[str, Any]
    if isinstance(msg, Exec):
        body = {"t": "exec", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
        if msg.create:
            body["c"] = 1
    elif isinstance(msg, Timer):
        body = {"t": "timer", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
    else:
        body = {"t": "start", "run": msg.run}
    if not_before is not None:
        body["nb"] = not_before
    return body


def decode(body: Any) -> tuple[Message, int | None]:
    try:
        kind = body["t"]
        nb = body.get("nb")
        if kind == "exec":
            exec_msg = Exec(
                str(body["run"]), str(body["step"]), int(body["attempt"]), bool(body.get("c"))
            )
            return exec_msg, nb
        if kind == "timer":
            return Timer(str(body["run"]), str(body["step"]), int(body["attempt"])), nb
        if kind == "start":
            return Start(str(body["run"])), nb
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadMessage(f"malformed message {body!r}: {exc}") from None
    raise BadMessage(f"unknown message kind {kind!r}")
