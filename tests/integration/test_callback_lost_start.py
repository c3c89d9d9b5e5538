"""A waiting step's start cut short by its worker's death (``lambda`` with ``invocation:
async``, ``wait_for_callback``): the start is redone once that worker is surely gone,
and a start that completed is never redone (its token's timeline item is the mark).

The worker "dies" by raising out of the runner (or the bus, or the store) in the middle
of the start: the message that claimed the attempt fails, and comes back after its
visibility timeout, as on SQS. The function is recorded, never run (locally it would run
on a thread of its own)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.callbacks import token_of
from podium.core.engine.records import TimelineEvent
from podium.core.engine.status import StepStatus
from podium.core.ports import Invocation, InvocationResult
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.callbacks import callback, parse_callback
from podium.service.execute import execute

TOKEN_EVENT = "Podium Callback Token"


class WorkerDied(RuntimeError):
    """The worker stopped here (a crash, a Lambda timeout)."""


class Runner:
    """Records the Event invokes; ``die`` kills the worker in the first ones (before the
    invoke was made); ``during`` runs in the first invoke (a duplicate delivery)."""

    def __init__(self, inner: Any, *, die: int = 0) -> None:
        self._inner, self._die = inner, die
        self.invoked: list[Invocation] = []
        self.during: Any = None
        self.by: list[str] = []  # the entry point of each invoke: only work may invoke

    def invoke(self, invocation: Invocation) -> InvocationResult:
        return self._inner.invoke(invocation)  # type: ignore[no-any-return]

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        if self._die:
            self._die -= 1
            raise WorkerDied("before the Event invoke")
        self.invoked.append(invocation)
        frames = {f.function for f in inspect.stack()}
        self.by.append("work" if "handle_work" in frames else "another function")
        if self.during is not None:
            during, self.during = self.during, None
            during()
        return InvocationResult(True)


class Bus:
    """The bus; ``die`` kills the worker in the first token publications."""

    def __init__(self, inner: Any, *, die: int = 0) -> None:
        self._inner, self._die = inner, die
        self.tokens: list[Mapping[str, Any]] = []

    def publish(self, entries: Sequence[Mapping[str, Any]]) -> None:
        tokens = [e["detail"] for e in entries if e.get("detail-type") == TOKEN_EVENT]
        if tokens and self._die:
            self._die -= 1
            raise WorkerDied("before the token was published")
        self.tokens.extend(tokens)
        self._inner.publish(entries)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Store:
    """The store; the worker dies before the token's timeline item (the start's mark)."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.died = inner, False

    def put_event(self, event: TimelineEvent) -> None:
        if event.kind == "callback_token" and not self.died:
            self.died = True
            raise WorkerDied("after the invoke, before the start's mark")
        self._inner.put_event(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def clock_of(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def async_lambda(**step: Any) -> dict[str, Any]:
    return {
        "name": "long_fn",
        "steps": [
            {
                "id": "train",
                "type": "lambda",
                "function": "jobs:start_training",
                "invocation": "async",
                "payload": {"epochs": 3},
                "timeout": "6h",
                **step,
            }
        ],
    }


def after(first: dict[str, Any], **step: Any) -> dict[str, Any]:
    """The async lambda as the successor of ``first``: the worker that ends ``first``
    claims it in-process, so it has no claim message of its own."""
    wf = async_lambda(depends_on=["first"], **step)
    wf["steps"].insert(0, {"id": "first", **first})
    return wf


NOOP = {"type": "noop"}  # ended by its own claim message (an exec)
NAP = {"type": "sleep", "seconds": 60}  # ended by its timer (a done message)


def waiting() -> dict[str, Any]:
    return {
        "name": "cb",
        "steps": [
            {
                "id": "wait",
                "type": "wait_for_callback",
                "payload": {"table": "sales"},
                "timeout": "6h",
            }
        ],
    }


def start(rt: LocalRuntime, wf: dict[str, Any]) -> str:
    rt.push(wf)
    run_id = rt.start_run(wf["name"]).run_id
    rt.pump(wait=False)
    return run_id


def redelivered(rt: LocalRuntime) -> None:
    """Time moves on to the claim message's redelivery (the visibility timeout of the
    work queue), delivering what falls due on the way; the 6 h timeout stays ahead."""
    due = rt.work_queue.next_visible_at()
    assert due is not None, "no message to come back"
    until(rt, due)


def until(rt: LocalRuntime, at: int) -> None:
    """Deliver everything that falls due until ``at`` (ms), in time order."""
    clock = clock_of(rt)
    while True:
        rt.pump(wait=False)
        due = [t for t in (rt.event_queue.next_visible_at(), rt.work_queue.next_visible_at()) if t]
        if not due or min(due) > at:
            break
        clock.advance_to(min(due))
    clock.advance_to(at)
    rt.pump(wait=False)


def step_of(rt: LocalRuntime, run_id: str, step: str) -> Any:
    record = rt.store.get_step(run_id, step)
    assert record is not None
    return record


def succeed(rt: LocalRuntime, token: str, output: Any) -> None:
    callback(rt.services, token, parse_callback({"success": output}))
    rt.pump(wait=False)


# --- (a) an async lambda whose worker died before the invoke ------------------------------


def test_an_async_lambda_cut_short_before_its_invoke_is_invoked_once_after_redelivery(
    rt: LocalRuntime,
) -> None:
    runner = rt.services.runner = Runner(rt.services.runner, die=1)
    run_id = start(rt, async_lambda())
    assert runner.invoked == []
    assert step_of(rt, run_id, "train").status is StepStatus.RUNNING
    redelivered(rt)  # the claim message comes back: the start is redone
    assert len(runner.invoked) == 1
    event = runner.invoked[0].payload
    assert event["idempotency_key"] == runner.invoked[0].idempotency_key == f"{run_id}/train/1"
    assert event["callback_token"] == token_of(f"{run_id}/train/1")
    assert event["payload"] == {"epochs": 3}
    succeed(rt, event["callback_token"], {"model": "s3://m/7"})
    record = step_of(rt, run_id, "train")
    assert (record.status, record.attempt, record.output) == (
        StepStatus.SUCCEEDED,
        1,
        {"model": "s3://m/7"},
    )
    assert len(runner.invoked) == 1


# --- (b) a wait_for_callback whose worker died before the token's publication --------------


def test_a_token_cut_short_before_its_publication_is_published_after_redelivery(
    rt: LocalRuntime,
) -> None:
    bus = rt.services.events = Bus(rt.services.events, die=1)
    run_id = start(rt, waiting())
    assert bus.tokens == []
    redelivered(rt)
    assert [t["token"] for t in bus.tokens] == [token_of(f"{run_id}/wait/1")]
    assert bus.tokens[0]["payload"] == {"table": "sales"}
    shown = [e for e in rt.store.list_events(run_id) if e.kind == "callback_token"]
    assert [e.detail["token"] for e in shown] == [bus.tokens[0]["token"]]  # runs show
    succeed(rt, bus.tokens[0]["token"], {"rows": 3})
    assert step_of(rt, run_id, "wait").output == {"rows": 3}
    assert len(bus.tokens) == 1


# --- (c) a claim delivered again after a complete start ------------------------------------


def test_a_claim_redelivered_after_a_complete_start_invokes_nothing_again(
    rt: LocalRuntime,
) -> None:
    runner = rt.services.runner = Runner(rt.services.runner)
    bus = rt.services.events = Bus(rt.services.events)
    run_id = start(rt, async_lambda())
    assert len(runner.invoked) == 1 and len(bus.tokens) == 1
    # Late (past any worker's lease), and twice: the start left its mark.
    for _ in range(2):
        clock_of(rt).advance(rt.services.lease_ms + 1)
        execute(rt.services, messages.Exec(run_id, "train", 1))
        rt.pump(wait=False)
    assert len(runner.invoked) == 1 and len(bus.tokens) == 1
    assert step_of(rt, run_id, "train").status is StepStatus.RUNNING


def test_a_duplicate_claim_during_the_start_waits_for_its_worker_and_invokes_nothing(
    rt: LocalRuntime,
) -> None:
    """A duplicate delivery while the first worker is still starting the attempt finds
    no mark yet: it must not invoke too. It looks again once that worker's lease has
    passed, and finds the start complete."""
    runner = rt.services.runner = Runner(rt.services.runner)
    rt.push(async_lambda())
    run_id = rt.start_run("long_fn").run_id
    runner.during = lambda: execute(rt.services, messages.Exec(run_id, "train", 1))
    rt.pump(wait=False)
    assert len(runner.invoked) == 1
    started = step_of(rt, run_id, "train").started_at
    until(rt, started + rt.services.lease_ms)  # the duplicate's look, a lease later
    assert len(runner.invoked) == 1
    assert step_of(rt, run_id, "train").status is StepStatus.RUNNING
    succeed(rt, token_of(f"{run_id}/train/1"), {"ok": True})
    assert step_of(rt, run_id, "train").status is StepStatus.SUCCEEDED


def test_a_death_between_the_invoke_and_the_mark_invokes_again_with_the_same_keys(
    rt: LocalRuntime,
) -> None:
    """The one window no write can close (the invoke is not part of a transaction):
    the function is invoked again, with the same event, so it can tell (and Lambda runs
    Event invokes at least once anyway)."""
    runner = rt.services.runner = Runner(rt.services.runner)
    store = rt.services.store = Store(rt.services.store)  # type: ignore[assignment]
    run_id = start(rt, async_lambda())
    assert store.died and len(runner.invoked) == 1
    redelivered(rt)
    first, second = runner.invoked
    assert first.payload == second.payload
    assert first.idempotency_key == second.idempotency_key == f"{run_id}/train/1"
    assert second.payload["callback_token"] == token_of(f"{run_id}/train/1")
    succeed(rt, second.payload["callback_token"], {"ok": True})
    assert step_of(rt, run_id, "train").status is StepStatus.SUCCEEDED


# --- a successor claimed in-process: no claim message of its own -------------------------


def test_a_successor_cut_short_is_restarted_by_the_replay_of_its_predecessors_claim(
    rt: LocalRuntime,
) -> None:
    """The redelivered exec of ``first`` replays its follow-ups: the successor's exec
    is sent again, and that claim finds the start cut short."""
    runner = rt.services.runner = Runner(rt.services.runner, die=1)
    run_id = start(rt, after(NOOP))
    assert runner.invoked == [] and step_of(rt, run_id, "train").status is StepStatus.RUNNING
    redelivered(rt)
    assert len(runner.invoked) == 1
    succeed(rt, runner.invoked[0].payload["callback_token"], {"ok": True})
    assert step_of(rt, run_id, "train").status is StepStatus.SUCCEEDED


def test_a_successor_cut_short_with_a_heartbeat_is_restarted_by_its_heartbeat_check(
    rt: LocalRuntime,
) -> None:
    """Ended by a timer, ``first`` has no claim message to replay: the heartbeat check
    (armed before the invoke) finds no start mark, and redoes the start once the dead
    worker's lease has passed."""
    runner = rt.services.runner = Runner(rt.services.runner, die=1)
    run_id = start(rt, after(NAP, heartbeat_seconds=60))
    until(rt, clock_of(rt).now_ms() + 60_000)  # the nap's timer: train claimed, cut short
    record = step_of(rt, run_id, "train")
    assert runner.invoked == [] and record.status is StepStatus.RUNNING
    until(rt, record.started_at + rt.services.lease_ms - 1)
    assert runner.invoked == []  # not while the claiming worker may be alive
    until(rt, record.started_at + rt.services.lease_ms)
    assert len(runner.invoked) == 1
    until(rt, clock_of(rt).now_ms() + 50_000)  # the redone start has a whole interval
    assert step_of(rt, run_id, "train").status is StepStatus.RUNNING
    succeed(rt, runner.invoked[0].payload["callback_token"], {"ok": True})
    assert step_of(rt, run_id, "train").status is StepStatus.SUCCEEDED
    assert len(runner.invoked) == 1
    # The heartbeat check comes to the advance function, whose role may not invoke
    # Lambda functions (only the work function's may): it sends the claim again, and
    # the work function redoes the start. (It invoked in place: AccessDenied on AWS,
    # and the step failed for good.)
    assert runner.by == ["work"]


def test_a_successor_of_a_timer_cut_short_without_a_heartbeat_is_restarted(
    rt: LocalRuntime,
) -> None:
    runner = rt.services.runner = Runner(rt.services.runner, die=1)
    run_id = start(rt, after(NAP))
    until(rt, clock_of(rt).now_ms() + 60_000)  # the nap's timer: train claimed, cut short
    record = step_of(rt, run_id, "train")
    assert runner.invoked == [] and record.status is StepStatus.RUNNING
    # Claimed from an exec message of its own (a waiting step is not claimed in-process
    # by the handler of the timer's done message, whose redelivery replays nothing):
    # that message comes back and the start is redone once the dead worker's lease passed.
    until(rt, record.started_at + 2 * rt.services.lease_ms)
    assert step_of(rt, run_id, "train").status is StepStatus.RUNNING
    assert len(runner.invoked) == 1
    succeed(rt, runner.invoked[0].payload["callback_token"], {"ok": True})
    assert step_of(rt, run_id, "train").status is StepStatus.SUCCEEDED
