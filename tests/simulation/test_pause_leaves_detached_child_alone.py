"""A pause of a parent run racing its ``wait: false`` subworkflow step left the detached
child PAUSED for good; now the parent's pause leaves a detached child alone.

The simulation's ``subworkflow_detached`` shape showed it with operators' actions
(tests/simulation/test_blind_spot_shapes.py; ``--shapes subworkflow_detached --actions
--intensity 2``, seeds 2 and 5: ``run_not_terminal``, ``not_settled``). Such a step
creates its child, then ends SUCCEEDED; the child is detached: "its parent's pause,
resume, stop and end leave it alone" (runtimes/subworkflow.py, service/detached_runs.py).
A pause that landed between the child's creation and the step's end (an operator racing
the step, or a worker that died between the two) walked the step, still RUNNING, and
paused the child: pausing.move_tree followed running steps without asking whether their
child was detached. Then the step ended, and neither the parent's resume (which follows
running steps only) nor the sweeper (``resume_if_parent_runs`` and
``stop_if_parent_ended`` leave a detached child alone) ever moved the child again. Now
pausing.child_runs leaves a ``wait: false`` step's child out of the tree a pause and a
resume walk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.runtimes.subworkflow import SubworkflowRuntime
from podium.service.sweep import sweep

MINUTE = 60_000


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def test_a_pause_racing_a_detached_subworkflow_step_does_not_leave_its_child_paused(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent is paused while its ``wait: false`` step has created its child and
    not ended yet; the parent's resume and half an hour of sweeps later, the child's
    10-minute sleep has ended it SUCCEEDED (before: PAUSED for good)."""
    rt.push({"name": "kid", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]})
    rt.push(
        {
            "name": "parent",
            "steps": [
                {"id": "sub", "type": "subworkflow", "workflow": "kid", "wait": False},
                {"id": "after", "type": "noop", "depends_on": ["sub"]},
            ],
        }
    )
    real = SubworkflowRuntime._launch

    def paused_meanwhile(self: SubworkflowRuntime, ctx: Any, attempt: Any) -> Any:
        child = real(self, ctx, attempt)  # the child exists; the step has not ended yet
        run_action(ctx, attempt.run.run_id, RunAction.PAUSE, Actor("alice", "pause"))
        return child

    monkeypatch.setattr(SubworkflowRuntime, "_launch", paused_meanwhile)
    run_id = rt.start_run("parent").run_id
    rt.pump(advance_time=False)
    monkeypatch.setattr(SubworkflowRuntime, "_launch", real)
    run_action(rt.services, run_id, RunAction.RESUME, Actor("alice", "resume"))
    rt.pump(advance_time=False)
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    for _ in range(30):  # half an hour of sweeps: the child's sleep is 10 minutes
        clock.advance(MINUTE)
        sweep(rt.services, rt.store)
        rt.pump(advance_time=False)
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
    child = rt.store.get_run(child_run_id(run_id, "sub", 0))
    assert child.status is RunStatus.SUCCEEDED, (
        f"the detached child is {child.status.value} ({child.reason}) half an hour after"
        " its parent's resume"
    )
