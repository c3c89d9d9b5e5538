"""A step ended from a read taken before it queued for a permit (simulation,
job_give_back 162 with operators acting, intensity 2).

An operator's stop (or skip) read the step READY and not queued; meanwhile it queued on
its key and was woken (READY again, at the same attempt, first in line). The stop's
write, expecting READY at that attempt, still held: the step ended STOPPED keeping its
place at the head of the queue, ``wake_head`` found a head not waiting and woke nobody,
and every later waiter on the key waited forever. The races are interleaved by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import _skip
from podium.service.advance import start_roots
from podium.service.lifecycle import cancel_step
from podium.service.permits import wake_head
from tests.integration.keyed_queue import KEY, STORES, keyed, keyed_runtime, step


@pytest.fixture(params=STORES)
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def queue_then_wake(rt: LocalRuntime) -> tuple[str, str, StepRecord]:
    """Two runs whose steps queue on the key, the first woken (READY, first in line);
    returns (first run, second run, the first step as read before it queued)."""
    rt.push(keyed())
    first = rt.start_run("keyed").run_id
    second = rt.start_run("keyed").run_id
    for run_id in (first, second):
        start_roots(rt.services, run_id)  # "load" READY, its message queued
    stale = step(rt, first)
    assert stale.status is StepStatus.READY and stale.waiting_key is None
    permits = rt.store.permits()
    assert permits.wait(stale, KEY, 1, now=1)
    assert permits.wait(step(rt, second), KEY, 1, now=2)
    assert wake_head(rt.services, KEY) == f"{first}/load"
    woken = step(rt, first)
    assert (woken.status, woken.attempt, woken.waiting_key) == (StepStatus.READY, 0, KEY)
    return first, second, stale


def assert_key_free_after(rt: LocalRuntime, first: str, second: str, ended: StepStatus) -> None:
    record = step(rt, first)
    assert record.status is ended and record.waiting_key is None
    rt.pump()
    assert rt.store.get_run(second).status is RunStatus.SUCCEEDED
    state = rt.store.permits().state(KEY)
    assert (state.active, state.waiting, state.holders) == (0, 0, {})
    assert rt.store.permits().head(KEY) is None


def test_a_stop_read_before_the_step_queued_takes_it_out_of_the_queue(rt: LocalRuntime) -> None:
    first, second, stale = queue_then_wake(rt)
    run = rt.store.get_run(first)
    assert cancel_step(rt.services, run, stale, "stopped by an operator")
    assert_key_free_after(rt, first, second, StepStatus.STOPPED)


def test_a_skip_read_before_the_step_queued_takes_it_out_of_the_queue(rt: LocalRuntime) -> None:
    first, second, stale = queue_then_wake(rt)
    run = rt.store.get_run(first)
    assert _skip(rt.services, run, "load", stale, "skipped by an operator") is StepStatus.SKIPPED
    assert_key_free_after(rt, first, second, StepStatus.SKIPPED)


def test_a_head_that_ended_in_the_queue_is_dropped_and_the_next_woken(rt: LocalRuntime) -> None:
    """A crash between such an end and its leaving the queue: the next ``wake_head`` of
    the key (a release, a sweep) drops the dead head and wakes the one behind it."""
    first, second, _ = queue_then_wake(rt)
    dead = rt.store.transition_step(
        first, "load", expected=frozenset({StepStatus.READY}), attempt=0,
        to=StepStatus.STOPPED, changes={"ended_at": 5, "reason": "stopped"},
    )  # fmt: skip
    assert dead.waiting_key == KEY  # the end a crash cut short: still first in line
    assert wake_head(rt.services, KEY) == f"{second}/load"
    assert rt.store.permits().queue(KEY, 10) == [(second, "load")]
    assert_key_free_after(rt, first, second, StepStatus.STOPPED)
