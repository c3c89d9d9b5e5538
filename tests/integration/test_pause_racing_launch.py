"""A pause that lands while a loop (or a subworkflow) is launching: the launch read its
run RUNNING and creates its children RUNNING, while the pause walks the run's tree
before those children exist (it skips a child not created yet). Before, the children
then ran their whole body during the pause. Now the pause marks the loop step before
its walk and the launch reads that mark with its launched mark (one write it makes
anyway), or, at a loop's first launch, reads its run again: a child it created RUNNING
in a paused run is paused before any of its work is sent.

Each test makes the pause land at the worst instant (inside the store call that
creates the first child, or that claims the loop step) and checks that no body step
runs until the resume, then that the run completes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.sweep import sweep

HERE = "tests.integration.test_pause_racing_launch"
CALLS: list[int] = []
ME = Actor("alice")


def work(event: dict[str, Any]) -> int:
    CALLS.append(int(event["payload"]["i"]))
    return 1


LOOP = {
    "name": "pause_race",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1, 2, 3]},
            "concurrency": 4,
            "steps": [
                {
                    "id": "w",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"i": "${iteration.i}"},
                }
            ],
        }
    ],
}
KID = {
    "name": "pause_kid",
    "steps": [
        {"id": "w", "type": "lambda", "function": f"{HERE}:work", "payload": {"i": 7}},
    ],
}
CALLER = {
    "name": "pause_caller",
    "steps": [{"id": "sub", "type": "subworkflow", "workflow": "pause_kid"}],
}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    CALLS.clear()
    home = tmp_path / "home" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def _pause_inside(rt: LocalRuntime, name: str, when: Callable[..., bool], top: list[str]) -> None:
    """Wrap the store's ``name``: the first call ``when`` accepts pauses run ``top[0]``
    first, then does what it was asked."""
    store = rt.services.store
    original = getattr(store, name)
    fired: list[bool] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not fired and top and when(*args, **kwargs):
            fired.append(True)
            run_action(rt.services, top[0], RunAction.PAUSE, ME)
        return original(*args, **kwargs)

    setattr(store, name, racing)


def _check_held_then_resumed(rt: LocalRuntime, run_id: str, children: list[str]) -> None:
    store = rt.services.store
    rt.pump(wait=False)
    assert store.get_run(run_id).status is RunStatus.PAUSED
    assert CALLS == [], "a body step ran while its run was paused"
    for child in children:
        assert store.get_run(child).status is RunStatus.PAUSED, store.get_run(child)
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump(wait=False)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED, store.get_run(run_id)
    for child in children:
        assert store.get_run(child).status is RunStatus.SUCCEEDED


def _start(rt: LocalRuntime, name: str, top: list[str]) -> str:
    run = rt.start_run(name)
    top.append(run.run_id)
    return run.run_id


def test_a_pause_during_a_loops_launch_holds_the_children_it_creates(rt: LocalRuntime) -> None:
    rt.push(LOOP)
    top: list[str] = []

    def first_child(run: Any) -> bool:
        return run.parent_run is not None and run.parent_index == 0

    _pause_inside(rt, "create_run", first_child, top)
    run_id = _start(rt, "pause_race", top)
    _check_held_then_resumed(rt, run_id, [child_run_id(run_id, "each", i) for i in range(4)])
    assert sorted(CALLS) == [0, 1, 2, 3]


def test_a_pause_during_a_loop_steps_claim_holds_its_first_launch(rt: LocalRuntime) -> None:
    """The pause walks the run's steps before the loop step is claimed: it never marks
    that step; the first launch reads the run again."""
    rt.push(LOOP)
    top: list[str] = []

    def claim_of_each(run_id: str, step: str, **kwargs: Any) -> bool:
        return step == "each" and kwargs.get("to") is StepStatus.RUNNING

    _pause_inside(rt, "transition_step", claim_of_each, top)
    run_id = _start(rt, "pause_race", top)
    _check_held_then_resumed(rt, run_id, [child_run_id(run_id, "each", i) for i in range(4)])
    assert sorted(CALLS) == [0, 1, 2, 3]


def test_a_pause_during_a_subworkflows_launch_holds_its_child(rt: LocalRuntime) -> None:
    rt.push(KID)
    rt.push(CALLER)
    top: list[str] = []

    def the_child(run: Any) -> bool:
        return run.parent_run is not None

    _pause_inside(rt, "create_run", the_child, top)
    run_id = _start(rt, "pause_caller", top)
    _check_held_then_resumed(rt, run_id, [child_run_id(run_id, "sub", 0)])
    assert CALLS == [7]


def test_a_resume_racing_the_launchs_own_pause_is_redone_by_the_sweeper(
    rt: LocalRuntime,
) -> None:
    """The launch reads the pause's mark, the run is resumed before it pauses its
    children: they are paused under a running parent, watched, and the sweeper resumes
    them (nothing else would)."""
    rt.push(LOOP)
    top: list[str] = []
    store = rt.services.store

    def first_child(run: Any) -> bool:
        return run.parent_run is not None and run.parent_index == 0

    _pause_inside(rt, "create_run", first_child, top)
    original, read = store.mark_launched, store.get_run
    marked: list[bool] = []

    def mark_read(run_id: str, step: str, launched: int, loop: Any = None) -> str | None:
        held = original(run_id, step, launched, loop)
        if held is not None and not marked:
            marked.append(True)
        return held

    def then_resumed(run_id: str) -> Any:
        # The launch reads its run again after the mark (missed_pause.paused_meanwhile):
        # still PAUSED; resumed right after that read.
        run = read(run_id)
        if marked == [True] and run_id == top[0]:
            marked.append(False)
            run_action(rt.services, run_id, RunAction.RESUME, ME)
        return run

    store.mark_launched = mark_read  # type: ignore[method-assign]
    store.get_run = then_resumed  # type: ignore[method-assign]
    run_id = _start(rt, "pause_race", top)
    rt.pump(wait=False)
    assert store.get_run(run_id).status is RunStatus.RUNNING
    assert CALLS == []
    first = store.get_run(child_run_id(run_id, "each", 0))
    assert first.status is RunStatus.PAUSED and first.watched, first
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(rt.services.stale_ready_ms)  # the sweeper's check of each child is due
    sweep(rt.services, rt.services.store)
    rt.pump(wait=False)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED, store.get_run(run_id)
    assert sorted(CALLS) == [0, 1, 2, 3]


def test_timeouts_keep_counting_while_the_run_is_paused(rt: LocalRuntime) -> None:
    """What docs/operations.md says of a pause: a running step (a loop step too) that
    passes its own timeout during the pause ends TIMED_OUT."""
    doc = {
        "name": "paused_timeouts",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "timeout": 60,
                "over": {"i": [1, 2]},
                "steps": [{"id": "s", "type": "sleep", "seconds": 30}],
            },
            {"id": "plain", "type": "sleep", "seconds": 300, "timeout": 100},
        ],
    }
    rt.push(doc)
    run = rt.start_run("paused_timeouts")
    rt.pump(wait=False)
    run_action(rt.services, run.run_id, RunAction.PAUSE, ME)
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(200_000)
    rt.pump(wait=False)
    steps = {s.step: s.status for s in rt.services.store.list_steps(run.run_id)}
    assert steps == {"each": StepStatus.TIMED_OUT, "plain": StepStatus.TIMED_OUT}, steps
