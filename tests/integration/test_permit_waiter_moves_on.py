"""A waiter woken on one key that then finds its second key full must not strand the
queue it leaves.

``y`` needs two permits: the shared key ``K`` (limit 1) and its run's own
``max_parallel_steps`` key (``run:<id>``, limit 1). It queues on ``K`` (held by ``z``),
and ``w`` (another run) queues behind it. When ``z`` ends, the release of ``K`` wakes
``y``; its claim finds ``run:<id>`` full (a sibling ``x`` runs for a long time), so
``y`` leaves ``K``'s queue for ``run:<id>``'s. ``K`` is free and ``w`` is now first in
its queue, yet nothing woke ``w``: only the key that was full is woken
(``execute._claim_with_permits``). ``w`` waits until some unrelated release of ``K``
(here: ``x`` ends 450 s later, ``y`` runs and releases ``K``), or a sweep.

docs/run-strategies.md: "a woken waiter that claims wakes the next while permits
remain"; a woken waiter that does not claim leaves a permit free with its old queue's
next waiter asleep. (Fixed: ``_claim_with_permits`` wakes the queue it left too.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

KEY = "K"


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(clock=ManualClock(), store=request.param, home=home) as runtime:
        yield runtime


def _push(rt: LocalRuntime) -> None:
    keyed = {"key": KEY, "limit": 1}
    rt.push({"name": "holder", "run_strategy": {"parallel": 10}, "steps": [
        {"id": "z", "type": "sleep", "seconds": 50, "concurrency": keyed}]})  # fmt: skip
    rt.push({"name": "two_keys", "max_parallel_steps": 1, "run_strategy": {"parallel": 10},
             "steps": [
                 {"id": "x", "type": "sleep", "seconds": 500},
                 {"id": "y", "type": "sleep", "seconds": 1, "concurrency": keyed}]})  # fmt: skip
    rt.push({"name": "behind", "run_strategy": {"parallel": 10}, "steps": [
        {"id": "w", "type": "sleep", "seconds": 1, "concurrency": keyed}]})  # fmt: skip


def test_the_next_waiter_of_the_key_a_woken_waiter_left_is_woken(rt: LocalRuntime) -> None:
    _push(rt)
    holder = rt.start_run("holder").run_id
    rt.pump(wait=False)
    two = rt.start_run("two_keys").run_id
    rt.pump(wait=False)
    behind = rt.start_run("behind").run_id
    rt.pump(wait=False)
    y = rt.store.get_step(two, "y")
    w = rt.store.get_step(behind, "w")
    assert y is not None and w is not None
    assert (y.status, y.waiting_key) == (StepStatus.WAITING_FOR_PERMITS, KEY)
    assert (w.status, w.waiting_key) == (StepStatus.WAITING_FOR_PERMITS, KEY)

    assert isinstance(rt.clock, ManualClock)
    rt.clock.advance(60_000)  # z ended at 50 s and gave K back
    rt.pump(wait=False)
    z = rt.store.get_step(holder, "z")
    assert z is not None and z.status is StepStatus.SUCCEEDED
    y = rt.store.get_step(two, "y")
    assert y is not None and y.waiting_key == f"run:{two}"  # left K's queue
    state = rt.store.permits().state(KEY)
    w = rt.store.get_step(behind, "w")
    assert w is not None
    # K is free of y (which holds nothing), so w, first in K's queue now, must have
    # been woken and have claimed it: it is not left waiting behind nobody.
    assert w.status in (StepStatus.RUNNING, StepStatus.SUCCEEDED), (w.status, w.reason, state)


def test_the_left_queue_does_not_wait_for_an_unrelated_release(rt: LocalRuntime) -> None:
    _push(rt)
    holder = rt.start_run("holder").run_id
    rt.pump(wait=False)
    rt.start_run("two_keys")
    rt.pump(wait=False)
    behind = rt.start_run("behind").run_id
    rt.pump()
    z = rt.store.get_step(holder, "z")
    w = rt.store.get_step(behind, "w")
    assert z is not None and w is not None
    assert z.ended_at is not None and w.started_at is not None
    # K was free from z's end (50 s): w starts then, not when x ends (500 s).
    assert w.started_at - z.ended_at < 5_000, (w.started_at - z.ended_at) / 1000
