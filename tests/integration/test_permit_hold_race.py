"""A step held (PAUSED) from a read taken before it queued for a permit.

A work message found its run paused and read the step READY and not queued; meanwhile
the step queued on its key and was woken (READY again, at the same attempt, first in
line). The hold's write, expecting READY at that attempt, still held: the step was
PAUSED keeping its place at the head of the queue, ``wake_head`` found a head not
waiting and woke nobody, and the key was blocked for as long as the run stayed paused.
Now the held step leaves the queue (``Permits.drop``, as an end decided from such a read
does), the next waiter is woken, and the step, resumed, queues again: one place, never
lost. The races are interleaved by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.core.engine.actions import RunAction
from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, run_action
from podium.service.advance import start_roots
from podium.service.pausing import hold, resume_step
from podium.service.permits import wake_head
from tests.integration.keyed_queue import KEY, STORES, keyed, keyed_runtime, step


@pytest.fixture(params=STORES)
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def two_runs(rt: LocalRuntime) -> tuple[str, str]:
    rt.push(keyed())
    first = rt.start_run("keyed").run_id
    second = rt.start_run("keyed").run_id
    for run_id in (first, second):
        start_roots(rt.services, run_id)  # "load" READY, its message queued
    return first, second


def pause(rt: LocalRuntime, run_id: str) -> None:
    rt.store.transition_run(
        run_id, expected=frozenset({RunStatus.RUNNING}), to=RunStatus.PAUSED, changes={}
    )


def queue_then_wake(rt: LocalRuntime, first: str, second: str) -> None:
    """Both steps queue on the key (the first before the second), the first is woken."""
    permits = rt.store.permits()
    assert permits.wait(step(rt, first), KEY, 1, now=1)
    assert permits.wait(step(rt, second), KEY, 1, now=2)
    assert wake_head(rt.services, KEY) == f"{first}/load"
    woken = step(rt, first)
    assert (woken.status, woken.attempt, woken.waiting_key) == (StepStatus.READY, 0, KEY)


def hold_from_a_stale_read(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch, first: str, second: str
) -> None:
    """``hold`` reads the first step READY and not queued; before its write lands the
    step queues and is woken."""
    store = rt.store
    real_get_step = store.get_step
    raced: list[StepRecord] = []

    def stale_then_race(run_id: str, name: str) -> StepRecord | None:
        record = real_get_step(run_id, name)
        if not raced and (run_id, name) == (first, "load"):
            assert record is not None and record.waiting_key is None
            raced.append(record)
            queue_then_wake(rt, first, second)
        return record

    monkeypatch.setattr(store, "get_step", stale_then_race)
    run = store.get_run(first)
    assert hold(rt.services, run, messages.Exec(first, "load", 1))
    monkeypatch.setattr(store, "get_step", real_get_step)
    assert raced


def assert_clean(rt: LocalRuntime) -> None:
    permits = rt.store.permits()
    state = permits.state(KEY)
    assert (state.active, state.waiting, state.holders) == (0, 0, {})
    assert permits.head(KEY) is None


def test_a_hold_read_before_the_step_queued_takes_it_out_of_the_queue(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_runs(rt)
    pause(rt, first)
    hold_from_a_stale_read(rt, monkeypatch, first, second)
    held = step(rt, first)
    assert (held.status, held.waiting_key, held.waiting_since) == (StepStatus.PAUSED, None, None)
    assert rt.store.permits().queue(KEY, 10) == [(second, "load")]
    # The one behind it is not blocked while the first is paused.
    rt.pump()
    assert rt.store.get_run(second).status is RunStatus.SUCCEEDED
    assert step(rt, first).status is StepStatus.PAUSED
    assert_clean(rt)
    # Resumed, it runs: not lost.
    run_action(rt.services, first, RunAction.RESUME, Actor("tester"))
    rt.pump()
    assert rt.store.get_run(first).status is RunStatus.SUCCEEDED
    assert_clean(rt)


def test_a_held_step_resumed_while_the_key_is_busy_queues_again_once(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resumed while the step woken in its stead still holds the permit: it queues again,
    at the back, in one place, and runs after."""
    first, second = two_runs(rt)
    pause(rt, first)
    hold_from_a_stale_read(rt, monkeypatch, first, second)
    rt.pump(max_deliveries=1)  # the second's wake message: it claims the permit
    assert step(rt, second).status is StepStatus.RUNNING
    run_action(rt.services, first, RunAction.RESUME, Actor("tester"))
    rt.pump(max_deliveries=1)  # the first's work message: the key is full, it queues
    queued = step(rt, first)
    assert (queued.status, queued.waiting_key) == (StepStatus.WAITING_FOR_PERMITS, KEY)
    assert rt.store.permits().queue(KEY, 10) == [(first, "load")]
    assert rt.store.permits().state(KEY).waiting == 1
    rt.pump()
    for run_id in (first, second):
        assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert_clean(rt)


def test_a_head_held_in_the_queue_is_dropped_and_the_next_woken(rt: LocalRuntime) -> None:
    """A crash between such a hold and its leaving the queue: the next ``wake_head`` of
    the key (a release, a sweep) drops the held head and wakes the one behind it."""
    first, second = two_runs(rt)
    pause(rt, first)
    queue_then_wake(rt, first, second)
    held = rt.store.transition_step(
        first, "load", expected=frozenset({StepStatus.READY}), attempt=0,
        to=StepStatus.PAUSED, changes={"reason": "held: the run is paused"},
    )  # fmt: skip
    assert held.waiting_key == KEY  # the hold a crash cut short: still first in line
    assert wake_head(rt.services, KEY) == f"{second}/load"
    assert rt.store.permits().queue(KEY, 10) == [(second, "load")]
    rt.pump()
    assert rt.store.get_run(second).status is RunStatus.SUCCEEDED
    run_action(rt.services, first, RunAction.RESUME, Actor("tester"))
    rt.pump()
    assert rt.store.get_run(first).status is RunStatus.SUCCEEDED
    assert_clean(rt)


def test_a_head_held_in_the_queue_and_resumed_first_claims_in_its_place(
    rt: LocalRuntime,
) -> None:
    """Resumed before anything dropped it: READY at its place, it claims as the waiter it
    is (a late drop finds it moved and does nothing): one place, no second."""
    first, second = two_runs(rt)
    pause(rt, first)
    queue_then_wake(rt, first, second)
    held = rt.store.transition_step(
        first, "load", expected=frozenset({StepStatus.READY}), attempt=0,
        to=StepStatus.PAUSED, changes={"reason": "held: the run is paused"},
    )  # fmt: skip
    rt.store.transition_run(
        first, expected=frozenset({RunStatus.PAUSED}), to=RunStatus.RUNNING, changes={}
    )
    assert resume_step(rt.services, first, held)
    assert not rt.store.permits().drop(held)  # resumed meanwhile: READY at its place
    assert rt.store.permits().queue(KEY, 10) == [(first, "load"), (second, "load")]
    rt.pump()
    for run_id in (first, second):
        assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert_clean(rt)
