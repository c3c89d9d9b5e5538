"""Children launched while their run is paused wait for its resume.

A running attempt goes on in a paused run, so a loop step's or a ``wait: true``
subworkflow step's launch can run after the pause (its claim's message redelivered after
a crash, a loop's next batch). ``SubworkflowRuntime._launch`` created its child RUNNING
and sent its start whatever it read, and ``missed_pause.paused_meanwhile`` skipped its
check for a run read PAUSED ("its children were created paused": true of loops.launch
only), so the child ran in full under its paused parent (found by the simulation with
operators: subworkflow_modes seed 17371, ``ran_while_paused``). And a launch redone in a
paused run that found its child created RUNNING by the pass a crash cut short (one that
read the run running, after the pause's walk listed no child) started it again.
"""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from tests.conftest import foreach

CHILD = {"name": "child", "steps": [{"id": "nap", "type": "sleep", "seconds": 60}]}
PARENT = {"name": "parent", "steps": [{"id": "sub", "type": "subworkflow", "workflow": "child"}]}
LOOPING = {
    "name": "parent",
    "steps": [foreach("sub", {"i": [1]}, {"id": "nap", "type": "sleep", "seconds": 60})],
}


def _steps_of(rt: LocalRuntime, run_id: str) -> list[tuple[str, str]]:
    return [(s.step, s.status.value) for s in rt.store.list_steps(run_id)]


def _paused_with_its_child_until_the_resume(rt: LocalRuntime, run_id: str) -> str:
    """The run is PAUSED, and its child (of step ``sub``) too, with no step started; the
    run resumed, the child's step starts. The child's run id."""
    store = rt.services.store
    assert store.get_run(run_id).status is RunStatus.PAUSED
    child_id = child_run_id(run_id, "sub", 0)
    child = store.get_run(child_id)
    assert child.status is RunStatus.PAUSED and not _steps_of(rt, child_id), (
        f"the child run of a paused parent is {child.status.value}"
        f" with steps {_steps_of(rt, child_id)}"
    )
    run_action(rt.services, run_id, RunAction.RESUME, Actor("alice", request_id="r1"))
    rt.pump(wait=False)
    assert _steps_of(rt, child_id) == [("nap", "RUNNING")], "the resume did not start it"
    return child_id


def test_a_subworkflow_launched_while_its_parent_is_paused_waits_for_the_resume() -> None:
    """A user paused a run while its subworkflow step's launch was being redone after a
    crash: the child run was created RUNNING and ran to its end although its parent was
    paused. It is created PAUSED (as a loop's iterations are), and starts only when the
    parent is resumed."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(CHILD)
        rt.push(PARENT)
        store = rt.services.store
        real = store.create_run
        crashed: list[str] = []

        def create_run(record: Any, *a: Any, **k: Any) -> Any:
            if record.workflow == "child" and not crashed:
                crashed.append(record.run_id)
                raise RuntimeError("the worker died before it created the child run")
            return real(record, *a, **k)

        store.create_run = create_run  # type: ignore[method-assign]
        run_id = rt.start_run("parent").run_id
        rt.pump(wait=False)
        assert crashed, "the launch was never attempted"
        run_action(rt.services, run_id, RunAction.PAUSE, Actor("alice", request_id="p1"))
        rt.pump(max_deliveries=10)  # the claim's message comes back
        child_id = _paused_with_its_child_until_the_resume(rt, run_id)
        assert store.get_run(child_id).status is RunStatus.RUNNING


def test_an_iteration_created_running_by_a_launch_cut_short_is_paused_when_redone() -> None:
    """A loop's launch read its run RUNNING, the run was paused (its walk found no
    iteration yet), the launch created the iteration RUNNING and died before it looked
    for the pause. Redone in the paused run, it found the iteration there and started
    it: the iteration ran under its paused parent. It is paused instead, and starts on
    the resume."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(LOOPING)
        store = rt.services.store
        real = store.create_run
        crashed: list[str] = []

        def create_run(record: Any, *a: Any, **k: Any) -> Any:
            if record.parent_step != "sub" or crashed:
                return real(record, *a, **k)
            crashed.append(record.run_id)
            parent = record.parent_run
            run_action(rt.services, parent, RunAction.PAUSE, Actor("alice", request_id="p1"))
            real(record, *a, **k)
            raise RuntimeError("the worker died right after it created the child run")

        store.create_run = create_run  # type: ignore[method-assign]
        run_id = rt.start_run("parent").run_id
        rt.pump(wait=False)
        assert crashed, "the launch was never attempted"
        rt.pump(max_deliveries=10)  # the loop's message comes back
        _paused_with_its_child_until_the_resume(rt, run_id)
