"""The queue messages: small JSON documents, one kind per purpose.

work queue:  {"t": "exec",  "run": id, "step": path, "attempt": n[, "c": 1]}
             ("c": the step has no item yet: the worker's claim creates it)
event queue: {"t": "start", "run": id}
             {"t": "done",  "run": id, "step": path, "attempt": n, "e": {...}}
                 a later completion of a waiting attempt: "e" is the runtime's event
                 ({"kind": "timer"} for a sleep, {"kind": "deadline"} for a timeout,
                 {"kind": "child", "run": id, ...} when a loop step's child run ended)
             {"t": "poll",  "run": id, "step": path, "attempt": n}
             {"t": "run_deadline", "run": id}   the run's own timeout
             {"t": "ended_check", "run": id}    a lease after a run ended (not succeeded):
                 end any step a worker created in the instant the run ended
             {"t": "stop_work", "run": id, "step": path, "attempt": n, "n": tries,
                 "why": reason}   an ended attempt's external work whose stop failed
                 transiently (throttled): asked to stop again
             {"t": "signals", "run": id, "step": path}   a step WAITING_FOR_SIGNALS looks
                 again (a signal of a name it waits for arrived, or its wait's deadline)
             {"t": "emit", "run": id, "step": path, "attempt": n, "n": looks}   send the
                 ``emit`` of a step whose success its run's deadline kept
                 (service/lifecycle.py end_with_result), once that success is written,
                 or again after a signal trigger raised on it (service/signals.py)
             {"t": "fire", "wf": name, "tr": trigger, "at": ISO time, "sf": ms}   a cron
                 or rate trigger's scheduled time (sent by its Scheduler schedule; ``sf``:
                 when that schedule's times began, catch-up's floor)
             {"t": "backfill", "wf", "tr", "todo": [[at, run id, restart of]], "active":
                 [run ids], "max": n, "bc"?: cancels seen, "id"?: driver, "tick"?: n}
                 a backfill with max_active starts its next runs (none after a cancel
                 of its trigger's backfills); a copy whose tick has moved on drops itself
Any message may carry "nb" (not before, epoch ms): SQS delays stop at 15 minutes, so a
longer wait is re-sent until it is due. ("timer" messages from before "done" existed are
read as a done message with a timer event.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
class Done:
    run: str
    step: str
    attempt: int
    event: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PollStep:
    run: str
    step: str
    attempt: int


@dataclass(frozen=True, slots=True)
class StopWork:
    run: str
    step: str
    attempt: int
    tries: int  # stops tried so far
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RunDeadline:
    run: str


@dataclass(frozen=True, slots=True)
class EndedCheck:
    run: str


@dataclass(frozen=True, slots=True)
class SignalCheck:
    run: str
    step: str


@dataclass(frozen=True, slots=True)
class Emit:
    run: str
    step: str
    attempt: int
    looks: int = 0  # how many times the step was found not yet ended


@dataclass(frozen=True, slots=True)
class Fire:
    workflow: str
    trigger: str
    at: str  # the scheduled time, ISO 8601 (Scheduler's <aws.scheduler.scheduled-time>)
    since: int = 0  # when the schedule's times began (ms; 0: not known): catch-up's floor


@dataclass(frozen=True, slots=True)
class BackfillDriver:
    workflow: str
    trigger: str
    todo: list[list[Any]]  # [at ms, run id, restart_of or None, logical date], in order
    active: list[str]
    max_active: int
    # The count of its trigger's backfill cancels when the backfill was asked for: a
    # cancel since (the count moved past it) stops this driver.
    cancels: int = 0
    # Its driver's id and the tick it expects (core/engine/backfill.py ``driver_id``,
    # the trigger state's ``backfill_drivers``): a copy of the message whose tick has
    # moved on drops itself. None: sent before drivers had ids (adopted when read).
    driver: str | None = None
    tick: int = 0


Message = (
    Exec
    | Start
    | Done
    | PollStep
    | StopWork
    | RunDeadline
    | EndedCheck
    | SignalCheck
    | Emit
    | Fire
    | BackfillDriver
)

TIMER_EVENT = {"kind": "timer"}
# A loop step's child run ended: {"kind": "child", "run": id, "index": i, "status": ...}
CHILD_EVENT_KIND = "child"
DEADLINE_EVENT = {"kind": "deadline"}


def encode(msg: Message, not_before: int | None = None) -> dict[str, Any]:
    body: dict[str, Any]
    if isinstance(msg, Exec):
        body = {"t": "exec", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
        if msg.create:
            body["c"] = 1
    elif isinstance(msg, Done):
        body = {"t": "done", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
        body["e"] = msg.event
    elif isinstance(msg, PollStep):
        body = {"t": "poll", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
    elif isinstance(msg, StopWork):
        body = {"t": "stop_work", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
        body.update({"n": msg.tries, "why": msg.reason})
    elif isinstance(msg, RunDeadline):
        body = {"t": "run_deadline", "run": msg.run}
    elif isinstance(msg, EndedCheck):
        body = {"t": "ended_check", "run": msg.run}
    elif isinstance(msg, SignalCheck):
        body = {"t": "signals", "run": msg.run, "step": msg.step}
    elif isinstance(msg, Emit):
        body = {"t": "emit", "run": msg.run, "step": msg.step, "attempt": msg.attempt}
        body["n"] = msg.looks
    elif isinstance(msg, Fire):
        body = {"t": "fire", "wf": msg.workflow, "tr": msg.trigger, "at": msg.at}
        if msg.since:
            body["sf"] = msg.since
    elif isinstance(msg, BackfillDriver):
        body = {
            "t": "backfill",
            "wf": msg.workflow,
            "tr": msg.trigger,
            "todo": msg.todo,
            "active": msg.active,
            "max": msg.max_active,
        }
        if msg.cancels:
            body["bc"] = msg.cancels
        if msg.driver is not None:
            body["id"], body["tick"] = msg.driver, msg.tick
    else:
        body = {"t": "start", "run": msg.run}
    if not_before is not None:
        body["nb"] = not_before
    return body


def dedup_key(msg: Message) -> str:
    """Names one timer: scheduling the same one twice creates it once."""
    body = encode(msg)
    kind = body.get("e", {}).get("kind", "") if isinstance(msg, Done) else ""
    if isinstance(msg, Fire):
        return "/".join(["fire", msg.workflow, msg.trigger, msg.at])
    if isinstance(msg, BackfillDriver):
        head = msg.todo[0][1] if msg.todo else ""
        return "/".join(["backfill", msg.workflow, msg.trigger, str(head)])
    parts = [body["t"], body["run"], str(body.get("step", "")), str(body.get("attempt", ""))]
    if isinstance(msg, StopWork):
        kind = str(msg.tries)  # each retry of a stop is a timer of its own
    if isinstance(msg, Emit):
        kind = str(msg.looks)  # each look again is a timer of its own
    return "/".join([*parts, kind])


def decode(body: Any) -> tuple[Message, int | None]:
    try:
        kind = body["t"]
        nb = body.get("nb")
        if nb is not None:
            nb = int(nb)
        if kind == "exec":
            exec_msg = Exec(
                str(body["run"]), str(body["step"]), int(body["attempt"]), bool(body.get("c"))
            )
            return exec_msg, nb
        if kind == "done":
            event = body.get("e") or {}
            if not isinstance(event, dict):
                raise BadMessage(f"malformed message {body!r}: 'e' must be an object")
            return Done(str(body["run"]), str(body["step"]), int(body["attempt"]), event), nb
        if kind == "timer":
            timer = Done(str(body["run"]), str(body["step"]), int(body["attempt"]), TIMER_EVENT)
            return timer, nb
        if kind == "poll":
            return PollStep(str(body["run"]), str(body["step"]), int(body["attempt"])), nb
        if kind == "stop_work":
            stop = StopWork(
                str(body["run"]),
                str(body["step"]),
                int(body["attempt"]),
                int(body["n"]),
                str(body.get("why") or ""),
            )
            return stop, nb
        if kind == "run_deadline":
            return RunDeadline(str(body["run"])), nb
        if kind == "ended_check":
            return EndedCheck(str(body["run"])), nb
        if kind == "signals":
            return SignalCheck(str(body["run"]), str(body["step"])), nb
        if kind == "emit":
            emit = Emit(
                str(body["run"]), str(body["step"]), int(body["attempt"]), int(body.get("n", 0))
            )
            return emit, nb
        if kind == "fire":
            fire = Fire(str(body["wf"]), str(body["tr"]), str(body["at"]), int(body.get("sf", 0)))
            return fire, nb
        if kind == "backfill":
            driver = BackfillDriver(
                str(body["wf"]),
                str(body["tr"]),
                [list(e) for e in body["todo"]],
                [str(r) for r in body["active"]],
                int(body["max"]),
                int(body.get("bc") or 0),
                None if body.get("id") is None else str(body["id"]),
                int(body.get("tick") or 0),
            )
            return driver, nb
        if kind == "start":
            return Start(str(body["run"])), nb
    except BadMessage:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadMessage(f"malformed message {body!r}: {exc}") from None
    raise BadMessage(f"unknown message kind {kind!r}")
