"""A resume whose walk lands after a newer pause keeps that pause's hold on its loops.

A pause marks each running loop step with its reason before it lists the step's
children (``StateStore.hold_children``), and a resume clears the mark: a launch that
read its run running reads the mark back with its launched mark and pauses the children
it created after the pause's listing (service/missed_pause.py). A resume slow to walk
the tree (its run write, then a newer pause in full, then its walk) cleared the newer
pause's mark, so the loop's next batch, launched by a pass that read the run before that
pause, started its iteration RUNNING under the paused run: its body ran during the pause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import run_action
from tests.integration.test_pause_racing_launch import CALLS, ME
from tests.integration.test_pause_racing_launch import LOOP as RACING_LOOP

# The loop of test_pause_racing_launch (its body calls ``work``, which records in CALLS),
# over two iterations launched one at a time: iteration 1 is launched by the pass
# iteration 0's end runs.
LOOP = {
    "name": "late_resume",
    "steps": [{**RACING_LOOP["steps"][0], "over": {"i": [0, 1]}, "concurrency": 1}],
}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    CALLS.clear()
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def before_each_call(rt: LocalRuntime, name: str, act: Callable[..., None]) -> None:
    """The store's ``name`` calls ``act`` with its arguments, then does what it was asked."""
    store = rt.services.store
    original = getattr(store, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        act(*args, **kwargs)
        return original(*args, **kwargs)

    setattr(store, name, wrapped)


def second_iteration(record: Any) -> bool:
    """``record`` is the run of a loop's iteration 1."""
    return record.parent_run is not None and record.parent_index == 1


def _a_late_resume_inside_the_second_launch(rt: LocalRuntime, top: list[str]) -> list[str]:
    """The pass that launches iteration 1 has read its run RUNNING. Before it creates
    the iteration: a pause, then a resume whose walk comes after a newer pause (the
    newer pause lands between the resume's run write and its clear of the mark)."""
    fired: list[str] = []

    def pause_then_resume(record: Any, *_: Any, **__: Any) -> None:
        if not fired and second_iteration(record):
            fired.append("paused")
            run_action(rt.services, top[0], RunAction.PAUSE, ME)
            fired[-1] = "resuming"
            run_action(rt.services, top[0], RunAction.RESUME, ME)

    def newer_pause(run_id: str, step: str, reason: str | None) -> None:
        if reason is None and fired == ["resuming"]:
            fired.append("paused again")
            run_action(rt.services, top[0], RunAction.PAUSE, ME)  # the newer pause

    before_each_call(rt, "create_run", pause_then_resume)
    before_each_call(rt, "hold_children", newer_pause)
    return fired


def test_a_late_resume_does_not_let_the_next_batch_run_under_the_newer_pause(
    rt: LocalRuntime,
) -> None:
    """The second iteration ran (its body called) while the run was paused by the newer
    pause. It waits PAUSED for the resume, then runs; the run completes."""
    rt.push(LOOP)
    top: list[str] = []
    run_id = rt.start_run("late_resume").run_id
    top.append(run_id)
    fired = _a_late_resume_inside_the_second_launch(rt, top)
    rt.pump(wait=False)
    assert fired == ["resuming", "paused again"], fired
    store = rt.services.store
    assert store.get_run(run_id).status is RunStatus.PAUSED
    second = store.get_run(child_run_id(run_id, "each", 1))
    assert CALLS == [0] and second.status is RunStatus.PAUSED, (
        f"under the paused run iteration 1 is {second.status.value}; bodies run: {CALLS}"
    )
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump(wait=False)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED, store.get_run(run_id)
    assert CALLS == [0, 1]
