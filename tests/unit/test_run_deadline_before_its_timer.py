"""A step that completes after its run's deadline, before the run's timer is handled
(the timer delivered a little late, as SQS and the Scheduler may): the run used to go on
past its deadline, starting the successor and even ending SUCCEEDED. It times out at the
completion instead, whichever comes first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import lifecycle

HERE = "tests.unit.test_run_deadline_before_its_timer"
CLOCK: list[ManualClock] = []
RAN: list[str] = []


def long_call(event: dict[str, Any]) -> str:
    """Returns two minutes later (the runtime's clock), past the run's 60 s timeout."""
    CLOCK[0].advance(120_000)
    return "done"


def after(event: dict[str, Any]) -> str:
    RAN.append("after")
    return "ran"


WORKFLOW = {
    "name": "bounded_call",
    "timeout": 60,
    "steps": [
        {"id": "call", "type": "lambda", "function": f"{HERE}:long_call"},
        {"id": "next", "type": "lambda", "function": f"{HERE}:after", "depends_on": ["call"]},
    ],
}


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    clock = ManualClock()
    CLOCK[:] = [clock]
    RAN.clear()
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, clock=clock, home=home) as runtime:
        yield runtime


def test_a_completion_past_the_runs_deadline_times_the_run_out(rt: LocalRuntime) -> None:
    rt.push(WORKFLOW)
    run_id = rt.start_run("bounded_call").run_id
    rt.pump(advance_time=False)  # the run's timer is due, not yet handled
    run = rt.store.get_run(run_id)
    assert run.status is RunStatus.TIMED_OUT, run
    assert run.error is not None and "timeout of 60 s" in run.error
    call = rt.store.get_step(run_id, "call")
    assert call is not None and call.status is StepStatus.TIMED_OUT
    assert RAN == []  # the successor never started
    after_step = rt.store.get_step(run_id, "next")
    assert after_step is None or after_step.status is StepStatus.STOPPED
    rt.pump()  # the timer, handled late, finds the run ended: nothing changes
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    assert RAN == []


def test_a_completion_by_the_deadline_goes_on(rt: LocalRuntime) -> None:
    rt.push({**WORKFLOW, "name": "roomy_call", "timeout": 600})
    run_id = rt.start_run("roomy_call").run_id
    rt.pump(advance_time=False)
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert RAN == ["after"]


def test_a_redo_after_a_crash_ends_running_steps_timed_out(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's timer ended the run, then its worker died before ending its steps: the
    redo (a late message, the sweeper) ends the running step TIMED_OUT, as the timer
    would have, not STOPPED."""
    rt.push(
        {
            "name": "bounded_nap",
            "timeout": 60,
            "steps": [{"id": "nap", "type": "sleep", "seconds": 3600}],
        }
    )
    run_id = rt.start_run("bounded_nap").run_id
    rt.pump(advance_time=False)
    started = rt.store.get_run(run_id).started_at
    assert started is not None
    CLOCK[0].advance_to(started + 61_000)

    def dies(*_a: Any, **_k: Any) -> list[str]:
        raise RuntimeError("the worker died after the run's end")

    with monkeypatch.context() as patched:
        patched.setattr(lifecycle, "cancel_steps", dies)
        with pytest.raises(RuntimeError):
            lifecycle.on_run_deadline(rt.services, run_id)
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    nap = rt.store.get_step(run_id, "nap")
    assert nap is not None and nap.status is StepStatus.RUNNING
    lifecycle.run_ended(rt.services, rt.store.get_run(run_id))  # the redo
    nap = rt.store.get_step(run_id, "nap")
    assert nap is not None and nap.status is StepStatus.TIMED_OUT, nap
