"""The allowed-actions matrix: each action from each run and step status, allowed and
refused, spelled out here so a change to the matrix is a deliberate one; the service
refuses through the same check; and the pure decisions behind restart and step paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.load import validate_definition
from podium.core.engine.actions import (
    ActionRefused,
    BadStepPath,
    RunAction,
    StepAction,
    check_retry_in_place,
    check_run_action,
    check_step_action,
    matrix_rows,
    propagates_as,
    resolve_step_path,
    reused_steps,
)
from podium.core.engine.graph import Graph
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action

R, S = RunStatus, StepStatus
RUN_ALLOWED: dict[RunStatus, set[str]] = {
    R.QUEUED: {"stop"},
    R.RUNNING: {"stop", "kill", "pause"},
    R.PAUSED: {"stop", "kill", "resume"},
    R.SUCCEEDED: {"restart"},
    R.FAILED: {"restart"},
    R.STOPPED: {"restart"},
    R.TIMED_OUT: {"restart"},
    R.DISCARDED: {"restart"},
}
STEP_ALLOWED_IN_RUNNING: dict[StepStatus | None, set[str]] = {
    None: set(),
    S.PENDING: set(),
    S.READY: {"skip", "stop"},
    S.WAITING_FOR_SIGNALS: {"skip", "stop"},
    S.WAITING_FOR_PERMITS: {"skip", "stop"},
    S.PAUSED: {"skip", "stop", "resume"},
    S.RUNNING: {"stop"},
    S.RETRY_WAIT: {"skip", "stop", "retry"},
    S.SUCCEEDED: set(),
    S.FAILED_IGNORED: set(),
    S.FAILED: {"retry"},
    S.SKIPPED: set(),
    S.STOPPED: set(),
    S.TIMED_OUT: {"retry"},
}


@pytest.mark.parametrize("status", list(RunStatus))
@pytest.mark.parametrize("action", list(RunAction))
def test_each_run_action_from_each_run_status(status: RunStatus, action: RunAction) -> None:
    if action.value in RUN_ALLOWED[status]:
        check_run_action(action, "r1", status)
        return
    with pytest.raises(ActionRefused) as refused:
        check_run_action(action, "r1", status)
    assert refused.value.status == status.value
    assert refused.value.allowed == sorted(RUN_ALLOWED[status])
    assert f"it is {status.value}" in str(refused.value)


@pytest.mark.parametrize("step_status", [None, *StepStatus])
@pytest.mark.parametrize("action", list(StepAction))
@pytest.mark.parametrize("run_status", list(RunStatus))
def test_each_step_action_from_each_step_and_run_status(
    run_status: RunStatus, action: StepAction, step_status: StepStatus | None
) -> None:
    allowed = action.value in STEP_ALLOWED_IN_RUNNING[step_status]
    if run_status is R.PAUSED:  # a paused run takes only what starts nothing
        allowed = allowed and action in (StepAction.SKIP, StepAction.STOP)
    elif run_status is not R.RUNNING:
        allowed = False
    if allowed:
        check_step_action(action, "r1", "s", run_status, step_status)
        return
    with pytest.raises(ActionRefused) as refused:
        check_step_action(action, "r1", "s", run_status, step_status)
    assert "cannot " + action.value in str(refused.value)


def test_the_docs_print_the_matrix() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    for status, actions in matrix_rows():
        assert f"| {status} | {actions} |" in docs, f"docs/operations.md misses '{status}'"


# -- the service refuses through the same check -----------------------------------------
@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.push({"name": "w", "steps": [{"id": "a", "type": "noop"}]})
        yield runtime


@pytest.mark.parametrize("status", [R.SUCCEEDED, R.FAILED, R.STOPPED, R.TIMED_OUT, R.DISCARDED])
def test_an_ended_run_refuses_every_action_but_restart(rt: LocalRuntime, status: RunStatus) -> None:
    run = RunRecord(f"run-{status.value}", "w", 1, status, {}, 0, 1, ended_at=0)
    rt.services.store.create_run(run)
    for action in (RunAction.STOP, RunAction.KILL, RunAction.PAUSE, RunAction.RESUME):
        with pytest.raises(ActionRefused) as refused:
            run_action(rt.services, run.run_id, action, Actor("t"))
        assert refused.value.status == status.value
    with pytest.raises(ActionRefused):
        step_action(rt.services, run.run_id, "a", StepAction.SKIP, Actor("t"))
    restarted = run_action(rt.services, run.run_id, RunAction.RESTART, Actor("t"))
    assert restarted.new_run == f"run-{status.value}-r1"


@pytest.mark.parametrize("status", [S.SUCCEEDED, S.SKIPPED, S.STOPPED, S.PENDING])
def test_a_step_refuses_what_its_status_does_not_allow(
    rt: LocalRuntime, status: StepStatus
) -> None:
    run = RunRecord("live", "w", 1, R.RUNNING, {}, 0, 1, started_at=0)
    rt.services.store.create_run(run)
    rt.services.store.create_step(StepRecord("live", "a", status))
    for action in StepAction:
        with pytest.raises(ActionRefused) as refused:
            step_action(rt.services, "live", "a", action, Actor("t"))
        assert refused.value.status == status.value


# -- pure decisions ---------------------------------------------------------------------
def _graph() -> Graph:
    defn = validate_definition(
        {
            "name": "g",
            "steps": [
                {"id": "a", "type": "noop"},
                {"id": "b", "type": "noop", "depends_on": ["a"]},
                {"id": "c", "type": "noop", "depends_on": ["b"]},
                {"id": "side", "type": "noop", "depends_on": ["a"]},
                {"id": "cleanup", "type": "noop", "depends_on": ["c"], "join": "all_done"},
            ],
        }
    )
    return Graph.of(defn)


def test_reused_steps_are_closed_upward() -> None:
    g = _graph()
    # b failed; cleanup ran anyway (all_done): it runs again after the fix.
    assert reused_steps(g, ["a", "side", "cleanup"]) == {"a", "side"}
    assert reused_steps(g, ["a", "b", "c", "side", "cleanup"], "b") == {"a", "side"}
    assert reused_steps(g, ["a", "b", "c", "side", "cleanup"]) == {
        "a",
        "b",
        "c",
        "side",
        "cleanup",
    }


def test_step_paths_reach_into_loop_iterations() -> None:
    assert resolve_step_path("R1", "load") == resolve_step_path("R1", "load")
    top = resolve_step_path("R1", "load")
    assert (top.run_id, top.step, top.is_child) == ("R1", "load", False)
    inner = resolve_step_path("R1", "per_day/3/load")
    assert (inner.run_id, inner.step, inner.is_child) == ("R1.per_day.3", "load", True)
    deep = resolve_step_path("R1", "a/1/b/2/c")
    assert (deep.run_id, deep.step) == ("R1.a.1.b.2", "c")
    for bad in ("a/1", "a/x/b", "a//b", ""):
        with pytest.raises(BadStepPath):
            resolve_step_path("R1", bad)


def test_an_operator_skip_propagates_as_a_success() -> None:
    assert propagates_as(S.SKIPPED, "skipped by alice: broken feed") is S.SUCCEEDED
    assert propagates_as(S.SKIPPED, "upstream failed") is S.SKIPPED
    assert propagates_as(S.FAILED, "skipped by x") is S.FAILED


def test_a_failed_step_of_a_running_run_takes_only_retry(rt: LocalRuntime) -> None:
    run = RunRecord("live", "w", 1, R.RUNNING, {}, 0, 1, started_at=0)
    rt.services.store.create_run(run)
    rt.services.store.create_step(StepRecord("live", "a", S.FAILED, attempt=1))
    for action in (StepAction.SKIP, StepAction.STOP, StepAction.RESUME):
        with pytest.raises(ActionRefused) as refused:
            step_action(rt.services, "live", "a", action, Actor("t"))
        assert refused.value.status == "FAILED" and refused.value.allowed == ["retry"]


@pytest.mark.parametrize("kind", ["foreach", "while"])
def test_a_failed_loop_step_is_not_retried_in_place(kind: str) -> None:
    with pytest.raises(ActionRefused) as refused:
        check_retry_in_place("r1", "loop", S.FAILED, kind)
    assert f"it is a {kind} step that ended FAILED" in str(refused.value)
    assert refused.value.status == "FAILED"
    assert "podium runs restart r1 --from loop/INDEX/STEP" in str(refused.value)
    check_retry_in_place("r1", "loop", S.RETRY_WAIT, kind)  # a wait before its attempt
    check_retry_in_place("r1", "sub", S.FAILED, "subworkflow")  # a new child run


def test_the_console_offers_no_retry_of_an_ended_loop_step() -> None:
    from podium.core.engine.actions import allowed_step_actions

    assert allowed_step_actions(R.RUNNING, S.FAILED, "foreach") == frozenset()
    assert allowed_step_actions(R.RUNNING, S.FAILED, "lambda") == {StepAction.RETRY}
    assert allowed_step_actions(R.RUNNING, S.RETRY_WAIT, "while") == {
        StepAction.RETRY,
        StepAction.SKIP,
        StepAction.STOP,
    }
