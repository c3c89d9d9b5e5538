"""Operators' actions on runs that hold loops and subworkflows, as the API (on moto) and
the service answer them: a refusal names what the operator acted on, and a fix that
works (review R28a)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, BadStepPath, RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action, step_action
from tests.integration.test_api_actions import call

ME = Actor("alice", reason="enough")
BROKEN = {"on": True}


def work(event: dict[str, Any]) -> int:
    if BROKEN["on"]:
        raise ValueError("broken feed")
    return 1


def always_fails(event: dict[str, Any]) -> int:
    raise ValueError("broken feed")


def sleepy_loop(on_failure: str) -> dict[str, Any]:
    return {
        "name": "sleepy",
        "steps": [
            {
                "id": "loop",
                "type": "foreach",
                "over": {"i": [0, 1, 2, 3]},
                "concurrency": 2,
                "on_failure": on_failure,
                "steps": [{"id": "nap", "type": "sleep", "seconds": 60}],
            }
        ],
    }


NESTED = {
    "name": "nested",
    "steps": [
        {
            "id": "outer",
            "type": "foreach",
            "over": {"j": [0, 1]},
            "steps": [
                {
                    "id": "inner",
                    "type": "foreach",
                    "over": {"i": [0, 1]},
                    "steps": [{"id": "nap", "type": "sleep", "seconds": 60}],
                }
            ],
        }
    ],
}
KID = {
    "name": "kid",
    "steps": [
        {"id": "work", "type": "lambda", "function": f"{__name__}:work"},
        {"id": "nap", "type": "sleep", "seconds": 30},
    ],
}


def parent(wait: bool = True) -> dict[str, Any]:
    return {
        "name": "parent",
        "steps": [
            {"id": "call", "type": "subworkflow", "workflow": "kid", "wait": wait},
            {"id": "nap", "type": "sleep", "seconds": 120},
        ],
    }


NESTED_FAIL = {
    "name": "nested_fail",
    "steps": [
        {
            "id": "outer",
            "type": "foreach",
            "over": {"j": [0]},
            "steps": [
                {
                    "id": "inner",
                    "type": "foreach",
                    "over": {"i": [0, 1]},
                    "steps": [
                        {"id": "a", "type": "lambda", "function": f"{__name__}:always_fails"}
                    ],
                },
                {"id": "nap", "type": "sleep", "seconds": 60},
            ],
        }
    ],
}


@pytest.fixture
def memory() -> Iterator[LocalRuntime]:
    BROKEN["on"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        yield rt


def _started(rt: LocalRuntime, definition: dict[str, Any]) -> str:
    rt.push(definition)
    run = rt.start_run(definition["name"])
    rt.pump(wait=False)  # what happens before the first timer: the sleeps run
    return run.run_id


def _names(action: str, run_id: str, message: str) -> bool:
    """Whether ``message`` says "<action> run <run_id>" of that very run, not of one whose
    id starts with it (the refusal's own "cannot pause run TOP.outer.0.inner.1" says
    "pause run TOP.outer.0" as a prefix)."""
    return re.search(rf"{action} run {re.escape(run_id)}(?![\w.])", message) is not None


def test_a_fail_fast_loop_failed_by_a_stopped_iteration_says_it_was_stopped(
    memory: LocalRuntime,
) -> None:
    """An operator stopped one iteration of a fail_fast foreach (``podium runs stop
    RUN.loop.0``): the run failed with "0 of 4 iterations failed (fail_fast ...)", which
    said nothing failed and hid the stop; it counts the stopped iteration now, as
    finish_running and continue do ("0 of 4 iterations failed, 1 stopped")."""
    top = _started(memory, sleepy_loop("fail_fast"))
    run_action(memory.services, child_run_id(top, "loop", 0), RunAction.STOP, ME)
    memory.pump()
    run = memory.describe(top).run
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert "stopped" in run.error.split("(")[0], run.error


def test_pausing_a_nested_iteration_hints_a_run_that_can_be_paused(
    runtime: LocalRuntime,
) -> None:
    """``POST /runs/TOP.outer.0.inner.1/actions {"action": "pause"}`` was refused with the
    hint "pause run TOP.outer.0", an iteration that refuses a pause in turn (naming
    TOP); the hint names the run a pause takes now: the top run."""
    top = _started(runtime, NESTED)
    outer = child_run_id(top, "outer", 0)
    inner = child_run_id(outer, "inner", 1)
    status, body = call("POST", f"/runs/{inner}/actions", {"action": "pause"})
    assert status == 409 and body["code"] == "action_refused"
    # The intermediate iteration refuses a pause too: a hint naming it is no fix.
    status, _ = call("POST", f"/runs/{outer}/actions", {"action": "pause"})
    assert status == 409
    assert not _names("pause", outer, body["message"]), body["message"]
    assert f"pause run {top}" in body["message"], body["message"]
    status, _ = call("POST", f"/runs/{top}/actions", {"action": "pause"})  # what it says
    assert status == 200


def test_resuming_a_nested_iteration_hints_a_run_that_can_be_resumed(
    memory: LocalRuntime,
) -> None:
    """With its top run paused, ``podium runs resume TOP.outer.0.inner.1`` was refused
    with the hint "resume run TOP.outer.0", which refuses too; the hint names the top
    run now, the one a resume takes."""
    top = _started(memory, NESTED)
    run_action(memory.services, top, RunAction.PAUSE, ME)
    outer = child_run_id(top, "outer", 0)
    inner = child_run_id(outer, "inner", 1)
    with pytest.raises(ActionRefused) as refused:
        run_action(memory.services, inner, RunAction.RESUME, ME)
    with pytest.raises(ActionRefused):
        run_action(memory.services, outer, RunAction.RESUME, ME)  # what the hint said
    message = refused.value.message
    assert not _names("resume", outer, message), message
    assert f"resume run {top}" in message, message
    run_action(memory.services, top, RunAction.RESUME, ME)  # what it says now


def test_a_step_action_in_a_paused_iteration_named_directly_hints_the_run_to_resume(
    memory: LocalRuntime,
) -> None:
    """``podium steps resume TOP.outer.0.inner.1 nap`` with the top run paused was
    refused with the hint "resume the run first": the run named, an iteration, refuses
    a resume (it resumes with its top run). The hint names the run a resume takes."""
    top = _started(memory, NESTED)
    run_action(memory.services, top, RunAction.PAUSE, ME)
    inner = child_run_id(child_run_id(top, "outer", 0), "inner", 1)
    with pytest.raises(ActionRefused) as refused:
        step_action(memory.services, inner, "nap", StepAction.RESUME, ME)
    message = refused.value.message
    assert "resume the run first" not in message, message
    assert f"resume run {top} first" in message, message


def test_a_refused_step_action_in_a_running_iteration_names_the_step_where_it_is(
    runtime: LocalRuntime,
) -> None:
    """``POST /runs/TOP/steps/actions {"action": "skip", "step": "loop/0/nap"}`` on a
    RUNNING step was refused as "cannot skip step loop/0/nap of run TOP.loop.0": a path
    from the top run put on the iteration's run (that names TOP.loop.0.loop.0/nap, which
    does not exist). It says "step loop/0/nap of run TOP" now, as the refusal in an
    ended iteration does."""
    top = _started(runtime, sleepy_loop("continue"))
    kid = child_run_id(top, "loop", 0)
    nap = runtime.services.store.get_step(kid, "nap")
    assert nap is not None and nap.status is StepStatus.RUNNING
    status, body = call(
        "POST", f"/runs/{top}/steps/actions", {"action": "skip", "step": "loop/0/nap"}
    )
    assert status == 409 and body["current"] == "RUNNING" and body["allowed"] == ["stop"]
    message = body["message"]
    assert f"step loop/0/nap of run {kid}" not in message, message
    assert f"step loop/0/nap of run {top}" in message or f"step nap of run {kid}" in message


def test_a_step_action_on_a_subworkflows_step_by_path_names_its_run(
    memory: LocalRuntime,
) -> None:
    """``podium steps retry RUN call/work`` (the SUBWORKFLOW_STEP/STEP path a restart
    takes) for a failed step of the run a ``wait: true`` subworkflow step waits for was
    refused with "write STEP, or LOOP_STEP/INDEX/STEP", which did not say how to reach
    that step. It acts on that step now, in the run the step started (RUN.call.0)."""
    memory.push(KID)
    top = _started(memory, parent())
    kid = child_run_id(top, "call", 0)
    failed = memory.services.store.get_step(kid, "work")
    assert failed is not None and failed.status is StepStatus.FAILED
    assert memory.services.store.get_run(kid).status is RunStatus.RUNNING  # its nap runs
    BROKEN["on"] = False
    try:
        done = step_action(memory.services, top, "call/work", StepAction.RETRY, ME)
    except (ActionRefused, BadStepPath) as refused:
        assert kid in str(refused), str(refused)
    else:
        assert done.status == StepStatus.RETRY_WAIT.value
        # Resolved, not refused naming the child: it acted there, and the retry succeeds.
        assert done.run_id == kid and done.step == "call/work"
    memory.pump(wait=False)
    retried = memory.services.store.get_step(kid, "work")
    assert retried is not None and retried.status is StepStatus.SUCCEEDED


def test_a_step_action_path_through_a_subworkflow_with_an_index_says_how_to_write_it(
    memory: LocalRuntime,
) -> None:
    """``podium steps retry RUN call/0/work`` said "'call' is a subworkflow step of
    'parent', not a loop ...; act on call instead", which is no fix for a step of its
    run. It says how to name it now: ``call/STEP``."""
    memory.push(KID)
    top = _started(memory, parent())
    with pytest.raises(BadStepPath) as bad:
        step_action(memory.services, top, "call/0/work", StepAction.RETRY, ME)
    assert "act on call instead" not in str(bad.value), str(bad.value)
    assert "call/STEP" in str(bad.value), str(bad.value)


def test_a_step_action_path_through_a_detached_subworkflow_names_its_run(
    memory: LocalRuntime,
) -> None:
    """A path through a ``wait: false`` subworkflow step (a run of its own) is refused
    naming that run, whose steps are acted on there."""
    memory.push(KID)
    top = _started(memory, parent(wait=False))
    kid = child_run_id(top, "call", 0)
    with pytest.raises(BadStepPath) as bad:
        step_action(memory.services, top, "call/work", StepAction.RETRY, ME)
    assert "wait: false" in str(bad.value) and kid in str(bad.value), str(bad.value)
    done = step_action(memory.services, kid, "work", StepAction.RETRY, ME)  # what it says
    assert done.status == StepStatus.RETRY_WAIT.value


def test_retrying_an_ended_nested_loop_hints_a_command_that_reaches_it(
    memory: LocalRuntime,
) -> None:
    """``podium steps retry TOP outer/0/inner`` (a foreach that ended FAILED in an outer
    iteration that still runs) was refused with the hint ``podium steps retry TOP.outer.0
    outer/0/inner/INDEX/STEP``: a path from the top run given to the iteration's run,
    which reaches TOP.outer.0.outer.0 and is refused as a step path that does not exist
    (and a retry in an iteration that ended, as all of an ended loop's have, is refused
    too). It names the restart of the top run from that path now."""
    top = _started(memory, NESTED_FAIL)
    outer = child_run_id(top, "outer", 0)
    inner = memory.services.store.get_step(outer, "inner")
    assert inner is not None and inner.status is StepStatus.FAILED
    assert memory.services.store.get_run(outer).status is RunStatus.RUNNING  # its nap runs
    with pytest.raises(ActionRefused) as refused:
        step_action(memory.services, top, "outer/0/inner", StepAction.RETRY, ME)
    message = refused.value.message
    assert f"podium steps retry {outer} outer/0/inner/" not in message, message
    assert f"step outer/0/inner of run {top}:" in message, message
    assert f"podium runs restart {top} --from outer/0/inner/INDEX/STEP" in message, message
    # Named through the outer iteration's run, the same restart of the top run.
    with pytest.raises(ActionRefused) as through:
        step_action(memory.services, outer, "inner", StepAction.RETRY, ME)
    said = through.value.message
    assert f"podium runs restart {top} --from outer/0/inner/INDEX/STEP" in said, said
    # What it names works once the run has ended.
    memory.pump()
    assert memory.describe(top).run.status is RunStatus.FAILED
    again = RestartRequest("outer/0/inner/1/a")
    assert run_action(memory.services, top, RunAction.RESTART, ME, again).new_run is not None
