import pytest

from podium.core.engine.status import (
    STEP_INITIAL,
    STEP_TRANSITIONS,
    IllegalTransition,
    RunStatus,
    StepStatus,
    can_transition,
    require_transition,
    sources_of,
)


def test_every_step_status_has_a_row_and_terminals_are_sinks() -> None:
    assert set(STEP_TRANSITIONS) == set(StepStatus)
    for status, targets in STEP_TRANSITIONS.items():
        assert status.terminal == (not targets), status


def test_flags() -> None:
    assert StepStatus.SUCCEEDED.complete and StepStatus.FAILED_IGNORED.complete
    assert not StepStatus.SKIPPED.complete
    assert StepStatus.FAILED.retryable and StepStatus.TIMED_OUT.retryable
    assert not StepStatus.SUCCEEDED.retryable
    assert StepStatus.READY.claimable and StepStatus.RETRY_WAIT.claimable
    assert not StepStatus.RUNNING.claimable
    assert RunStatus.DISCARDED.terminal and not RunStatus.QUEUED.terminal
    assert set(StepStatus) >= STEP_INITIAL


def test_transition_table_is_enforced() -> None:
    assert can_transition(StepStatus.READY, StepStatus.RUNNING)
    assert not can_transition(StepStatus.SUCCEEDED, StepStatus.RUNNING)
    assert not can_transition(StepStatus.PENDING, StepStatus.SUCCEEDED)
    assert not can_transition(StepStatus.READY, RunStatus.RUNNING)
    with pytest.raises(IllegalTransition):
        require_transition(RunStatus.SUCCEEDED, RunStatus.RUNNING)
    assert sources_of(StepStatus.RUNNING) == {
        StepStatus.READY,
        StepStatus.RETRY_WAIT,
        StepStatus.WAITING_FOR_PERMITS,
    }
