"""A callback step's start (the token's publication, an async lambda's Event invoke)
runs at most once per attempt, whatever mix of a redelivered claim message, a
``poll`` message, a heartbeat check, a callback result and a worker's death meets it.

The first start is guarded by the claim's conditional write: only its worker starts
it, and a look at the attempt (a duplicate claim, a poll) before that worker is surely
gone (a worker's lease after the claim) finds no start mark and waits. A start cut
short (its worker died before the start's mark) is redone once the lease has passed.
That redo is taken by one conditional write too (a ``start_redo`` item on the run's
timeline, keyed by the attempt's start and the redo's number): two looks that find the
start cut short at the same time (a ``poll`` message and the claim message delivered
again; two deliveries of one message) redo it once, and the other waits a lease for
the redo's mark. (Before, both redid it: the function was invoked twice for one
attempt, with no worker dying between the invoke and the mark.)

"Concurrent" deliveries are played deterministically: the second one is handled
inside the first one's invoke (or bus publication), between its look and its mark."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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
from podium.service.completions import on_done, on_poll
from podium.service.execute import execute
from tests.integration.test_callback_lost_start import (
    TOKEN_EVENT,
    WorkerDied,
    async_lambda,
    clock_of,
    start,
    until,
)


class Runner:
    """Records the Event invokes. ``die``: the worker dies before the first ones are
    made; ``during``: run inside the next invoke (another delivery racing this one)."""

    def __init__(self, inner: Any, *, die: int = 0) -> None:
        self._inner, self._die = inner, die
        self.invoked: list[Invocation] = []
        self.during: list[Callable[[], Any]] = []

    def invoke(self, invocation: Invocation) -> InvocationResult:
        return self._inner.invoke(invocation)  # type: ignore[no-any-return]

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        if self._die:
            self._die -= 1
            raise WorkerDied("before the Event invoke")
        self.invoked.append(invocation)
        if self.during:
            self.during.pop(0)()
        return InvocationResult(True)


class Bus:
    """Records the token publications; ``during`` runs inside the next one."""

    def __init__(self, inner: Any, *, die: int = 0) -> None:
        self._inner, self._die = inner, die
        self.tokens: list[Mapping[str, Any]] = []
        self.during: list[Callable[[], Any]] = []

    def publish(self, entries: Sequence[Mapping[str, Any]]) -> None:
        tokens = [e["detail"] for e in entries if e.get("detail-type") == TOKEN_EVENT]
        if tokens and self._die:
            self._die -= 1
            raise WorkerDied("before the token was published")
        self.tokens.extend(tokens)
        self._inner.publish(entries)
        if tokens and self.during:
            self.during.pop(0)()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Store:
    """The store; ``die_at_redo`` kills the worker right after its redo was taken."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.die_at_redo = 0

    def put_event_once(self, event: TimelineEvent) -> tuple[TimelineEvent, bool]:
        stored = self._inner.put_event_once(event)
        if event.kind == "start_redo" and self.die_at_redo:
            self.die_at_redo -= 1
            raise WorkerDied("after taking the redo, before the start")
        return stored  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def waiting(**step: Any) -> dict[str, Any]:
    return {
        "name": "cb",
        "steps": [
            {
                "id": "train",
                "type": "wait_for_callback",
                "payload": {"table": "sales"},
                "timeout": "6h",
                **step,
            }
        ],
    }


def step_of(rt: LocalRuntime, run_id: str, step: str = "train") -> Any:
    record = rt.store.get_step(run_id, step)
    assert record is not None
    return record


def cut_short(rt: LocalRuntime, wf: dict[str, Any]) -> tuple[Runner, str, int]:
    """An attempt whose first start died before its invoke; the clock is one worker's
    lease after its claim (that worker is surely gone): the start is due to be redone.
    Nothing was delivered since the death (the claim message is not back yet)."""
    runner = rt.services.runner = Runner(rt.services.runner, die=1)
    run_id = start(rt, wf)
    assert runner.invoked == []
    record = step_of(rt, run_id)
    assert record.status is StepStatus.RUNNING
    clock_of(rt).advance_to(record.started_at + rt.services.lease_ms)
    return runner, run_id, record.started_at


def exec_again(rt: LocalRuntime, run_id: str) -> Callable[[], Any]:
    """The attempt's claim message, delivered (again) to a work function."""
    return lambda: execute(rt.services, messages.Exec(run_id, "train", 1))


def succeed(rt: LocalRuntime, token: str, output: Any) -> None:
    callback(rt.services, token, parse_callback({"success": output}))
    rt.pump(wait=False)


def finish(rt: LocalRuntime, run_id: str, runner: Runner) -> None:
    """The function calls back: the attempt succeeds, and nothing is invoked again."""
    succeed(rt, token_of(f"{run_id}/train/1"), {"ok": True})
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    until(rt, clock_of(rt).now_ms() + 3 * rt.services.lease_ms)
    assert len(runner.invoked) == 1


# --- the suspected bug: two looks redo one start cut short -------------------------------


def test_a_poll_and_a_redelivered_claim_redo_a_start_cut_short_once(rt: LocalRuntime) -> None:
    """The note's interleaving: the poll set by an early look finds the start cut short
    (its claim message goes to the work function, which redoes the start) while the
    original claim message is delivered again (its worker died: it was never deleted).
    The second redo, inside the first one's invoke, finds no mark yet: it must wait."""
    runner, run_id, _ = cut_short(rt, async_lambda())
    runner.during.append(exec_again(rt, run_id))  # the redelivered claim, meanwhile
    on_poll(rt.services, messages.PollStep(run_id, "train", 1))  # sends the claim
    rt.pump(wait=False)  # the work function redoes the start
    assert len(runner.invoked) == 1
    finish(rt, run_id, runner)


def test_two_deliveries_of_a_claim_past_the_lease_redo_the_start_once(rt: LocalRuntime) -> None:
    runner, run_id, _ = cut_short(rt, async_lambda())
    runner.during.append(exec_again(rt, run_id))
    exec_again(rt, run_id)()
    assert len(runner.invoked) == 1
    finish(rt, run_id, runner)


def test_a_heartbeat_check_and_a_redelivered_claim_redo_the_start_once(
    rt: LocalRuntime,
) -> None:
    runner, run_id, started = cut_short(rt, async_lambda(heartbeat_seconds=60))
    runner.during.append(exec_again(rt, run_id))
    check = {"kind": f"heartbeat_check@{started + 60_000}"}
    on_done(rt.services, messages.Done(run_id, "train", 1, check))  # no mark: the claim again
    rt.pump(wait=False)
    assert len(runner.invoked) == 1
    finish(rt, run_id, runner)


def test_a_token_cut_short_is_published_once_by_two_racing_looks(rt: LocalRuntime) -> None:
    """wait_for_callback: its start's outside effect is the token's publication."""
    bus = rt.services.events = Bus(rt.services.events, die=1)
    run_id = start(rt, waiting())
    assert bus.tokens == []
    clock_of(rt).advance_to(step_of(rt, run_id).started_at + rt.services.lease_ms)
    bus.during.append(exec_again(rt, run_id))
    exec_again(rt, run_id)()
    assert [t["token"] for t in bus.tokens] == [token_of(f"{run_id}/train/1")]
    succeed(rt, bus.tokens[0]["token"], {"rows": 3})
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert len(bus.tokens) == 1


def test_the_look_that_lost_the_redo_looks_again_and_finds_it_complete(
    rt: LocalRuntime,
) -> None:
    """The loser is not dropped: it looks again a lease after the redo was taken (the
    redo's worker may die too), finds the mark, and invokes nothing."""
    runner, run_id, _ = cut_short(rt, async_lambda())
    runner.during.append(exec_again(rt, run_id))
    exec_again(rt, run_id)()
    rt.pump(wait=False)
    until(rt, clock_of(rt).now_ms() + 2 * rt.services.lease_ms)
    assert len(runner.invoked) == 1
    assert step_of(rt, run_id).status is StepStatus.RUNNING
    finish(rt, run_id, runner)


def test_a_redo_whose_worker_died_is_redone_once_its_lease_passed(rt: LocalRuntime) -> None:
    """Liveness: the redo's worker dies right after taking it; no look redoes it while
    that worker may be alive, and the first look a lease later does."""
    store = rt.services.store = Store(rt.services.store)  # type: ignore[assignment]
    runner, run_id, _ = cut_short(rt, async_lambda())
    store.die_at_redo = 1
    taken_at = clock_of(rt).now_ms()
    with pytest.raises(WorkerDied):
        exec_again(rt, run_id)()
    assert runner.invoked == []
    clock_of(rt).advance_to(taken_at + rt.services.lease_ms - 1)
    exec_again(rt, run_id)()  # too early: that worker may still be starting it
    on_poll(rt.services, messages.PollStep(run_id, "train", 1))
    rt.pump(wait=False)
    assert runner.invoked == []
    until(rt, taken_at + rt.services.lease_ms + 60_000)  # the looks set meanwhile
    assert len(runner.invoked) == 1
    finish(rt, run_id, runner)


# --- guards of the interleavings that were already safe --------------------------------


def test_a_poll_and_a_duplicate_claim_during_the_first_start_invoke_nothing_more(
    rt: LocalRuntime,
) -> None:
    """The first start (its claim's worker alive): a duplicate claim and a poll made
    inside its invoke find no mark but a claim younger than a lease: they wait."""
    runner = rt.services.runner = Runner(rt.services.runner)
    rt.push(async_lambda())
    run_id = rt.start_run("long_fn").run_id

    def racing() -> None:
        exec_again(rt, run_id)()
        on_poll(rt.services, messages.PollStep(run_id, "train", 1))

    runner.during.append(racing)
    rt.pump(wait=False)
    assert len(runner.invoked) == 1
    until(rt, step_of(rt, run_id).started_at + 2 * rt.services.lease_ms)
    assert len(runner.invoked) == 1
    finish(rt, run_id, runner)


def test_a_result_recorded_before_the_redo_ends_the_attempt_without_a_start(
    rt: LocalRuntime,
) -> None:
    """A callback that came for a start cut short (its token was published, the worker
    died before the mark): the look past the lease applies the result, starts nothing."""
    runner = rt.services.runner = Runner(rt.services.runner, die=1)
    run_id = start(rt, async_lambda())
    callback(rt.services, token_of(f"{run_id}/train/1"), parse_callback({"success": {"x": 1}}))
    # its done message not delivered yet: the redelivered claim finds the result first
    clock_of(rt).advance_to(step_of(rt, run_id).started_at + rt.services.lease_ms)
    exec_again(rt, run_id)()
    rt.pump(wait=False)
    record = step_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"x": 1})
    assert runner.invoked == []
