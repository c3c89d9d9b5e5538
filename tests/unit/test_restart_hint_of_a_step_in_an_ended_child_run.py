"""A step action on a step of an ended loop iteration (or waited-for subworkflow's run)
is refused with a hint naming the restart that reruns it: through the top run. The hint
said "restart run X from it once that run has ended" even when X had ended already
(core/engine/actions.py ``check_step_action``). It says what holds: restart X now when
it has ended, once it has when it is still going (``top_ended``; said of both when the
caller does not know)."""

from __future__ import annotations

import pytest

from podium.core.engine.actions import ActionRefused, StepAction, check_step_action
from podium.core.engine.status import RunStatus, StepStatus

CHILD, TOP, PATH = "TOP.per.3", "TOP", "per/3/load"


def _hint(top_ended: bool | None) -> str:
    with pytest.raises(ActionRefused) as refused:
        check_step_action(
            StepAction.RESUME,
            CHILD,
            PATH,
            RunStatus.FAILED,
            StepStatus.FAILED,
            top_run=TOP,
            top_ended=top_ended,
        )
    return str(refused.value)


def test_a_top_run_that_has_ended_is_to_be_restarted_now() -> None:
    said = _hint(True)
    assert "once" not in said, said
    assert f"and so has run {TOP}: restart that run from it" in said, said
    assert f"podium runs restart {TOP} --from {PATH}" in said, said


def test_a_top_run_still_going_is_to_be_restarted_once_it_has_ended() -> None:
    said = _hint(False)
    assert f"run {TOP} has not: restart that run from it once it has ended" in said, said


def test_not_knowing_says_both() -> None:
    said = _hint(None)
    assert "once that run has ended" not in said, said
    assert "a run still going is restarted once it has ended" in said, said
