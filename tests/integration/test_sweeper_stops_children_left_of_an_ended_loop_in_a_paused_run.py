"""The sweeper's check of a paused run stops what a crash left running of an ended loop.

A loop step that ends other than SUCCEEDED stops its iterations after its own end write.
A crash in between left them running; the run's end, and a pause's or resume's walk,
redo that stop (service/pausing.move_tree), but a pause cut short before its walk (the
API died right after the run's PAUSED write) redid nothing, and the sweeper's check of
the PAUSED run only reclaimed leases and ended signal waits: the iterations ran on,
starting their next steps, while their run was paused (until its resume or end).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action
from podium.service.sweep import sweep
from tests.conftest import foreach

ME = Actor("al", request_id="s1")
LOOPING = {
    "name": "looping",
    "steps": [
        foreach(
            "each",
            {"i": [1, 2]},
            {"id": "nap", "type": "sleep", "seconds": 3600},
            {"id": "after", "type": "noop", "depends_on": ["nap"]},
        ),
        {"id": "other", "type": "sleep", "seconds": 7200},
    ],
}


def _crash_after(rt: LocalRuntime, name: str, hit: Any) -> list[str]:
    """The store's ``name`` raises right after the first write ``hit`` accepts."""
    store = rt.services.store
    real = getattr(store, name)
    crashed: list[str] = []

    def crashing(*a: Any, **k: Any) -> Any:
        out = real(*a, **k)
        if not crashed and hit(*a, **k):
            crashed.append(a[0])
            raise RuntimeError("the API died right after the write")
        return out

    setattr(store, name, crashing)
    return crashed


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def test_the_sweeper_stops_the_iterations_left_of_a_stopped_loop_in_a_paused_run(
    rt: LocalRuntime,
) -> None:
    """A stop of the loop step and then a pause of its run were both cut short right
    after their first write: the iterations went on under the paused run, and started
    their ``after`` step when their naps ended. The sweeper's check of the paused run
    stops them, and the run stays paused."""
    rt.push(LOOPING)
    stopped = _crash_after(
        rt,
        "transition_step",
        lambda _r, step, *a, **k: step == "each" and k.get("to") is StepStatus.STOPPED,
    )
    run_id = rt.start_run("looping").run_id
    paused = _crash_after(
        rt, "transition_run", lambda r, *a, **k: r == run_id and k.get("to") is RunStatus.PAUSED
    )
    rt.pump(wait=False)
    with contextlib.suppress(RuntimeError):
        step_action(rt.services, run_id, "each", StepAction.STOP, ME)
    with contextlib.suppress(RuntimeError):
        run_action(rt.services, run_id, RunAction.PAUSE, Actor("al", request_id="p1"))
    assert stopped and paused, "a crash was not injected"
    store = rt.services.store
    kids = [child_run_id(run_id, "each", i) for i in range(2)]
    assert [store.get_run(k).status for k in kids] == [RunStatus.RUNNING] * 2
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    for _ in range(10):  # ten minutes of sweeps, as the scheduled sweeper makes them
        clock.advance(60_000)
        sweep(rt.services, store)
        rt.pump(wait=False)
    rt.pump(max_deliveries=30)  # the naps' hour passes
    assert store.get_run(run_id).status is RunStatus.PAUSED
    states = {k: store.get_run(k).status.value for k in kids}
    started = [f"{k}/after" for k in kids for s in store.list_steps(k) if s.step == "after"]
    assert not started and set(states.values()) == {"STOPPED"}, (
        f"under the paused run the stopped loop's iterations are {states}, and started {started}"
    )
