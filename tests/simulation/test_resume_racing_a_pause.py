"""A resume of a child run racing a pause of its parent left the child RUNNING under its
paused parent; now the resume puts it back PAUSED.

The sweeper resumes a paused child run whose parent runs (a parent's resume that a
crash cut short: resuming.resume_if_parent_runs). It read the parent, then moved the
child PAUSED -> RUNNING. If the parent was paused again in between (an operator's
pause, whose walk of the tree found the child still PAUSED and left it so), the child
was resumed under a paused parent and nothing paused it again: its steps started and
ran for as long as the parent stayed paused. The simulation showed it as
``ran_while_paused`` (``--shapes while_ten --actions --intensity 2``, seed 194: an
iteration's step claimed 30 minutes into its parent's pause; a pause holds every step
of the run's tree, docs/operations.md "Acting on runs"). The parent's own resume had
the same window: its walk of the tree (resuming.resume_tree) resumed an iteration while
a racing pause had the parent paused again (``--shapes foreach_failures --actions
--intensity 2``, seed 96). Now a resume reads the child's parent after its own write to
the child (resuming.paused_again, as a step's hold does: pausing._after_hold), and one
that finds it paused puts the child back PAUSED and resumes nothing of it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import resuming
from podium.service.actions import Actor, run_action
from podium.service.pausing import move_tree


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


LOOPING = {
    "name": "looping",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [1]},
            "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
        }
    ],
}


def test_a_child_resumed_by_the_sweeper_on_a_stale_read_of_its_parent_is_paused_again(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweeper's resume of an iteration, on a read of its parent from before the
    parent's pause: the iteration stays PAUSED."""
    rt.push(
        {
            "name": "looping",
            "steps": [
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": [1]},
                    "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
                }
            ],
        }
    )
    run_id = rt.start_run("looping").run_id
    rt.pump(advance_time=False)
    child_id = child_run_id(run_id, "each", 0)
    run_action(rt.services, run_id, RunAction.PAUSE, Actor("alice", "pause"))
    parent, child = rt.store.get_run(run_id), rt.store.get_run(child_id)
    assert (parent.status, child.status) == (RunStatus.PAUSED, RunStatus.PAUSED)
    # The sweeper read the parent RUNNING just before the pause. That one read: a read
    # after its own write is fresh (get_run is strongly consistent).
    stale = dataclasses.replace(parent, status=RunStatus.RUNNING)
    store = rt.services.store
    real = store.get_run
    stale_reads = [stale]

    def read_before_the_pause(run: str) -> object:
        return stale_reads.pop() if run == run_id and stale_reads else real(run)

    monkeypatch.setattr(store, "get_run", read_before_the_pause)
    resuming.resume_if_parent_runs(rt.services, child)
    monkeypatch.setattr(store, "get_run", real)
    rt.pump(advance_time=False)
    assert rt.store.get_run(run_id).status is RunStatus.PAUSED
    child = rt.store.get_run(child_id)
    assert child.status is RunStatus.PAUSED, (
        f"the iteration is {child.status.value} under its paused parent"
    )


def test_a_child_resumed_by_its_parents_resume_racing_a_pause_is_paused_again(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent's resume has written the parent RUNNING; a pause lands before its walk
    of the tree (the pause's walk finds the iteration still PAUSED and leaves it so).
    The resume's walk then moves the iteration, finds the parent paused, and puts it
    back: the iteration stays PAUSED, with the second pause's reason."""
    rt.push(LOOPING)
    run_id = rt.start_run("looping").run_id
    rt.pump(advance_time=False)
    child_id = child_run_id(run_id, "each", 0)
    run_action(rt.services, run_id, RunAction.PAUSE, Actor("alice", "pause"))

    def walk_after_a_racing_pause(*args: Any, **kwargs: Any) -> list[str]:
        run_action(rt.services, run_id, RunAction.PAUSE, Actor("bob", "pause again"))
        return move_tree(*args, **kwargs)

    monkeypatch.setattr(resuming, "move_tree", walk_after_a_racing_pause)
    run_action(rt.services, run_id, RunAction.RESUME, Actor("alice", "resume"))
    monkeypatch.setattr(resuming, "move_tree", move_tree)
    rt.pump(advance_time=False)
    assert rt.store.get_run(run_id).status is RunStatus.PAUSED
    child = rt.store.get_run(child_id)
    assert child.status is RunStatus.PAUSED, (
        f"the iteration is {child.status.value} under its paused parent"
    )
    assert child.reason is not None and "bob" in child.reason, child.reason
