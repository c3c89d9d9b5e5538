"""Refusal hints for a waited-for subworkflow's run (and what lives in it) name a
restart that is allowed.

A restart of a ``wait: true`` subworkflow's run is refused, naming its parent's restart
instead. But when that parent was itself a waited-for subworkflow's run (a subworkflow
calling a subworkflow), or the run holding a loop iteration was one (the iteration's
place stopped at the first run that is not an iteration), or a step action was refused
on a step of such a run, the hint named a run whose restart is refused too; and a
parent restarted already was named though its restart is refused ("restart P-r1
instead"). ``restart.restart_place`` now climbs through iterations and waited-for
parents to the first run a restart takes, and ``newest_restart`` follows its restarts
to the newest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action

ME = Actor("alice")

LEAF = {
    "name": "leaf",
    "steps": [
        {"id": "ok", "type": "noop"},
        {"id": "bad", "type": "fail", "message": "bad", "depends_on": ["ok"]},
    ],
}
MID = {
    "name": "mid",
    "steps": [{"id": "inner", "type": "subworkflow", "workflow": "leaf", "wait": True}],
}
TOP = {
    "name": "top",
    "steps": [{"id": "call", "type": "subworkflow", "workflow": "mid", "wait": True}],
}
FANOUT = {
    "name": "fanout",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1]},
            "steps": [
                {"id": "ok", "type": "noop"},
                {"id": "bad", "type": "fail", "message": "bad", "depends_on": ["ok"]},
            ],
        }
    ],
}
ONE = {
    "name": "one",
    "steps": [{"id": "call", "type": "subworkflow", "workflow": "leaf", "wait": True}],
}
TOP_FANOUT = {
    "name": "top_fanout",
    "steps": [{"id": "call", "type": "subworkflow", "workflow": "fanout", "wait": True}],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        for doc in (LEAF, MID, TOP, ONE, FANOUT, TOP_FANOUT):
            runtime.push(doc)
        yield runtime


def _named_restart(message: str) -> str:
    found = re.search(r"podium runs restart (\S+?)[ )]", message)
    assert found is not None, message
    return found.group(1)


def _restart_allowed(rt: LocalRuntime, run_id: str) -> None:
    """The run a hint names takes a restart (from incomplete)."""
    try:
        run_action(rt.services, run_id, RunAction.RESTART, ME)
    except ActionRefused as refused:
        pytest.fail(f"the hint named {run_id}, whose restart is refused too: {refused}")


def _ended(rt: LocalRuntime, workflow: str) -> str:
    run = rt.start_run(workflow)
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    return run.run_id


def test_a_subworkflow_in_a_subworkflow_names_the_top_run_to_restart(rt: LocalRuntime) -> None:
    top = _ended(rt, "top")
    mid = child_run_id(top, "call", 0)
    leaf = child_run_id(mid, "inner", 0)
    assert rt.describe(leaf).run.status is RunStatus.FAILED
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, leaf, RunAction.RESTART, ME)
    named = _named_restart(str(refused.value))
    # Before a fix: names the mid run, whose own restart is refused (it is waited for).
    assert named == top, str(refused.value)
    _restart_allowed(rt, named)


def test_an_iteration_in_a_waited_for_subworkflow_names_the_top_run(rt: LocalRuntime) -> None:
    top = _ended(rt, "top_fanout")
    child = child_run_id(top, "call", 0)
    iteration = child_run_id(child, "loop", 1)
    assert rt.describe(iteration).run.status is RunStatus.FAILED
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, iteration, RunAction.RESTART, ME)
    named = _named_restart(str(refused.value))
    # Before a fix: "restart {child} --from loop/1/<step>", refused as the child is
    # waited for by step call of the top run.
    assert named == top, str(refused.value)
    _restart_allowed(rt, named)


def test_a_step_action_in_a_waited_for_subworkflow_names_a_restart_allowed(
    rt: LocalRuntime,
) -> None:
    top = _ended(rt, "one")
    leaf = child_run_id(top, "call", 0)
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, leaf, "bad", StepAction.RETRY, ME)
    named = _named_restart(str(refused.value))
    # Before a fix: "restart the run: podium runs restart {leaf} --from bad", a restart
    # that is refused (the leaf run is waited for).
    assert named == top, str(refused.value)
    _restart_allowed(rt, named)


def test_the_child_of_a_parent_restarted_already_names_the_restart_to_make(
    rt: LocalRuntime,
) -> None:
    parent = _ended(rt, "one")
    old_child = child_run_id(parent, "call", 0)
    new = run_action(rt.services, parent, RunAction.RESTART, ME).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.FAILED
    with pytest.raises(ActionRefused) as refused:
        run_action(rt.services, old_child, RunAction.RESTART, ME)
    named = _named_restart(str(refused.value))
    # Before a fix: names the parent, restarted already (its restart is refused:
    # "restart {new} instead").
    assert named == new, str(refused.value)
    _restart_allowed(rt, named)


def test_a_step_actions_hint_never_names_a_subworkflow_path_there(rt: LocalRuntime) -> None:
    """Once the parent was restarted, a step action on the old child's step said "run P
    was restarted as P-r1: act on step call/bad there": step actions take no such path
    (STEP or LOOP/INDEX/STEP; a subworkflow's step lives in its child run), so following
    it was refused as a malformed path. Only the restart that works is named now."""
    parent = _ended(rt, "one")
    new = run_action(rt.services, parent, RunAction.RESTART, ME).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.FAILED
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, child_run_id(parent, "call", 0), "bad", StepAction.RETRY, ME)
    message = str(refused.value)
    assert f"podium runs restart {new} --from call/bad" in message, message
    assert "act on step call/bad there" not in message, message
