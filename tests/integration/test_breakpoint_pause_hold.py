"""An attempt that passed its breakpoint keeps that pass through a run pause's hold.

A step resumed past its breakpoint whose claim found its concurrency key full queued for
a permit (the queue's reason replaced the resume's marker: the queue itself was then the
evidence that the attempt had passed). Its run paused; woken, it was held (it leaves the
queue: ``Permits.abandon``), and the hold's reason replaced what it said. Before the fix,
once the run was resumed, the step stopped at its breakpoint a second time. An attempt
that had not passed its breakpoint when the pause held it still stops at it, and so does
a fresh attempt (a retry) of one that passed.

On the memory store, the SQLite home and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.engine.actions import RunAction, StepAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, run_action, step_action
from podium.service.advance import start_roots
from podium.service.breakpoints import clear_breakpoints, set_breakpoint
from podium.service.pausing import BREAKPOINT, RUN_PAUSES, hold
from tests.integration.keyed_queue import KEY, STORES, keyed_runtime, step

ME = Actor("alice", "testing")


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def gated(**load: Any) -> dict[str, Any]:
    """``holder`` takes the key's one permit for a second; ``load`` (the step with the
    breakpoint) needs the same key, so once resumed past its breakpoint it queues."""
    permit = {"key": KEY, "limit": 1}
    return {
        "name": "gated",
        "steps": [
            {"id": "holder", "type": "sleep", "seconds": 1, "concurrency": permit},
            {"id": "load", "type": "noop", "concurrency": permit, **load},
        ],
    }


def status(rt: LocalRuntime, run_id: str, name: str) -> StepStatus:
    record = rt.store.get_step(run_id, name)
    assert record is not None
    return record.status


def queued_past_its_breakpoint(rt: LocalRuntime, **load: Any) -> str:
    """``load`` resumed past its breakpoint, then queued behind ``holder``; its run is
    paused. Returns the run."""
    rt.push(gated(**load))
    set_breakpoint(rt.services, "gated", "load")
    run_id = rt.start_run("gated").run_id
    rt.pump(wait=False)
    assert status(rt, run_id, "holder") is StepStatus.RUNNING  # holds the permit
    record = step(rt, run_id)
    assert (record.status, record.reason) == (StepStatus.PAUSED, BREAKPOINT)
    step_action(rt.services, run_id, "load", StepAction.RESUME, ME)  # attempt 1 passes
    rt.pump(wait=False)
    record = step(rt, run_id)
    assert (record.status, record.waiting_key) == (StepStatus.WAITING_FOR_PERMITS, KEY)
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    return run_id


def test_a_step_queued_past_its_breakpoint_and_held_by_a_run_pause_passes_it_on_resume(
    rt: LocalRuntime,
) -> None:
    run_id = queued_past_its_breakpoint(rt)
    rt.pump()  # holder ends and wakes load, whose message finds its run paused: held
    record = step(rt, run_id)
    assert (record.status, record.attempt, record.waiting_key) == (StepStatus.PAUSED, 0, None)
    assert record.reason in RUN_PAUSES
    assert rt.store.permits().state(KEY).waiting == 0  # it left the queue
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump(wait=False)
    record = step(rt, run_id)
    # Not held at the breakpoint a second time: the attempt it passed goes on.
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1), record.reason
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_duplicate_message_holding_a_waiting_step_keeps_its_pass(rt: LocalRuntime) -> None:
    """Held while still waiting in the queue (a duplicate of its work message found its
    run paused): it leaves the queue, and resumed, still passes its breakpoint."""
    run_id = queued_past_its_breakpoint(rt)
    run = rt.store.get_run(run_id)
    assert hold(rt.services, run, messages.Exec(run_id, "load", 1))
    record = step(rt, run_id)
    assert (record.status, record.waiting_key) == (StepStatus.PAUSED, None)
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump()  # load queues again behind holder, then runs
    record = step(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1), record.reason
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_the_retry_of_an_attempt_that_passed_through_a_pause_stops_at_the_breakpoint(
    rt: LocalRuntime,
) -> None:
    """The pass belongs to the attempt that was resumed: it runs (and fails), and its
    retry, a new attempt, stops at the breakpoint as every attempt does."""
    run_id = queued_past_its_breakpoint(
        rt, type="fail", message="broke", retries=1, retry_delay_seconds=1
    )
    rt.pump()
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump()
    record = step(rt, run_id)
    assert (record.status, record.reason, record.attempt) == (StepStatus.PAUSED, BREAKPOINT, 1)
    clear_breakpoints(rt.services, "gated")
    rt.pump()
    record = step(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.FAILED, 2)


def test_a_step_held_by_a_run_pause_before_its_breakpoint_still_stops_at_it(
    rt: LocalRuntime,
) -> None:
    """Paused before the step reached its breakpoint: the hold is no pass. Resumed, the
    run's step stops at the breakpoint, and goes on once it is resumed past it."""
    rt.push(gated())
    set_breakpoint(rt.services, "gated", "load")
    run_id = rt.start_run("gated").run_id
    start_roots(rt.services, run_id)  # both READY, their work messages sent
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    rt.pump(wait=False)  # the messages find the run paused: held
    record = step(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.PAUSED, 0)
    assert record.reason in RUN_PAUSES and record.reason != BREAKPOINT
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump(wait=False)
    record = step(rt, run_id)
    assert (record.status, record.reason, record.attempt) == (StepStatus.PAUSED, BREAKPOINT, 0)
    step_action(rt.services, run_id, "load", StepAction.RESUME, ME)
    rt.pump()
    assert step(rt, run_id).status is StepStatus.SUCCEEDED
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_step_resumed_past_its_breakpoint_and_held_before_its_claim_passes_it(
    rt: LocalRuntime,
) -> None:
    """Resumed past its breakpoint, its run paused before the resume's message was
    claimed: the hold keeps the pass the resume's marker said."""
    rt.push(gated())
    set_breakpoint(rt.services, "gated", "load")
    run_id = rt.start_run("gated").run_id
    rt.pump(wait=False)
    step_action(rt.services, run_id, "load", StepAction.RESUME, ME)
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    rt.pump(wait=False)  # the resume's message finds the run paused: held
    record = step(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.PAUSED, 0)
    assert record.reason in RUN_PAUSES and record.reason != BREAKPOINT
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump()
    record = step(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1), record.reason
