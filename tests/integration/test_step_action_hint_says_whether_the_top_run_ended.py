"""A step action on a step of an ended loop iteration is refused with the restart of the
top run that reruns it. The hint said "restart run X from it once that run has ended"
when X had ended long before: it says now to restart X now, as X has ended too."""

from __future__ import annotations

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, StepAction, step_action

FAILING_LOOP = {
    "name": "hint_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [1]},
            "steps": [{"id": "work", "type": "fail", "message": "no"}],
        }
    ],
}


def test_the_hint_says_the_top_run_has_ended_too() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(FAILING_LOOP)
        assert view.run.status is RunStatus.FAILED
        top = view.run.run_id
        with pytest.raises(ActionRefused) as refused:
            step_action(rt.services, top, "each/0/work", StepAction.RESUME, Actor("t", "why"))
    said = str(refused.value)
    assert f"and so has run {top}: restart that run from it" in said, said
    assert "once it has ended" not in said and "once that run has ended" not in said, said
