"""A subworkflow launch cut short between its child's creation and its launched mark.

The launch read its run RUNNING; a pause of the run walked the tree before the child
existed (it skipped it); the launch created the child RUNNING and died before it raised
the step's launched mark (which reads back the pause's mark and pauses the child). The
redo of the attempt found the child and did not launch again, so nothing paused it, and
the sweeper, seeing a RUNNING child without steps, started its roots under its paused
parent: the child ran in full while the parent was paused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import QUEUE_VISIBILITY_SECONDS, LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.sweep import sweep
from tests.integration.test_launch_under_a_paused_parent_waits_for_the_resume import (
    _paused_with_its_child_until_the_resume,
)

ME = Actor("alice")
CHILD = {"name": "kid", "steps": [{"id": "nap", "type": "sleep", "seconds": 60}]}
PARENT = {"name": "caller", "steps": [{"id": "sub", "type": "subworkflow", "workflow": "kid"}]}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def _cut_short_under_a_pause(rt: LocalRuntime) -> tuple[str, str]:
    """The child's creation pauses the parent first (the walk finds no child), creates
    the child, and the worker dies before the launched mark. (run id, child id)"""
    store = rt.services.store
    real = store.create_run
    crashed: list[str] = []

    def create_run(record: Any, *a: Any, **k: Any) -> Any:
        if record.workflow != "kid" or crashed:
            return real(record, *a, **k)
        crashed.append(record.run_id)
        assert record.parent_run is not None
        run_action(rt.services, record.parent_run, RunAction.PAUSE, ME)
        real(record, *a, **k)
        raise RuntimeError("the worker died right after it created the child run")

    store.create_run = create_run  # type: ignore[method-assign]
    rt.push(CHILD)
    rt.push(PARENT)
    run_id = rt.start_run("caller").run_id
    rt.pump(wait=False)
    assert crashed, "the launch was never attempted"
    return run_id, child_run_id(run_id, "sub", 0)


def _sweep_for_a_while(rt: LocalRuntime) -> None:
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    for _ in range(4):
        clock.advance(rt.services.stale_ready_ms + 60_000)
        sweep(rt.services, rt.services.store)
        rt.pump(wait=False)


def _paused_until_the_resume(rt: LocalRuntime, run_id: str, child_id: str) -> None:
    """The run and its child PAUSED, the child with no step started, until the resume
    starts it; then the run completes."""
    assert _paused_with_its_child_until_the_resume(rt, run_id) == child_id
    rt.pump()
    store = rt.services.store
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED, store.get_run(run_id)


def test_the_sweeper_pauses_a_child_left_unstarted_under_a_paused_parent(
    rt: LocalRuntime,
) -> None:
    """The sweeper saw a RUNNING child without steps (its start never sent) and started
    its roots, although its parent was paused: the child ran in full during the pause.
    It pauses the child instead (its parent's resume starts it)."""
    run_id, child_id = _cut_short_under_a_pause(rt)
    _sweep_for_a_while(rt)
    _paused_until_the_resume(rt, run_id, child_id)


def test_the_launch_redone_in_the_paused_run_pauses_the_child_it_finds_running(
    rt: LocalRuntime,
) -> None:
    """The claim's message came back (after its visibility timeout, before any sweep)
    and the step's redo, reading its run PAUSED, found the child and did nothing: the
    child stayed RUNNING under its paused parent (for the sweeper to start). The redo
    pauses it, as the launch it finishes would have."""
    run_id, child_id = _cut_short_under_a_pause(rt)
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(QUEUE_VISIBILITY_SECONDS * 1000)
    assert rt.pump(wait=False), "the claim's message did not come back"
    child = rt.services.store.get_run(child_id)
    assert child.status is RunStatus.PAUSED and child.watched, child
    _sweep_for_a_while(rt)
    _paused_until_the_resume(rt, run_id, child_id)
