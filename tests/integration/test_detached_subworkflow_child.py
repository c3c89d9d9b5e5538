"""The run of a ``wait: false`` subworkflow step is detached: its step succeeded as it
started, so its parent's pause, stop and end leave it alone, and an operator pauses,
resumes and stops it on its own (it was refused as a child that "pauses and resumes
with its parent", which never paused it). A waited-for child still follows its parent."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.detached_runs import detached
from tests.integration.test_api_actions import call

ME = Actor("alice")
KID = {"name": "kid", "steps": [{"id": "zz", "type": "sleep", "seconds": 60}]}


def parent(wait: bool, other_seconds: int = 300) -> dict[str, Any]:
    return {
        "name": "par",
        "steps": [
            {"id": "sub", "type": "subworkflow", "workflow": "kid", "wait": wait},
            {"id": "other", "type": "sleep", "seconds": other_seconds},
        ],
    }


def _started(runtime: LocalRuntime, wait: bool, other_seconds: int = 300) -> tuple[str, str]:
    runtime.push(KID)
    runtime.push(parent(wait, other_seconds))
    run = runtime.start_run("par")
    runtime.pump(wait=False)
    kid = child_run_id(run.run_id, "sub", 0)
    assert runtime.services.store.get_run(kid).status is RunStatus.RUNNING
    return run.run_id, kid


def _status(runtime: LocalRuntime, run_id: str) -> str:
    return runtime.services.store.get_run(run_id).status.value


def test_a_detached_child_is_paused_resumed_and_stopped_on_its_own(
    runtime: LocalRuntime,
) -> None:
    top, kid = _started(runtime, wait=False)
    assert detached(runtime.services, runtime.services.store.get_run(kid))
    status, body = call("POST", f"/runs/{kid}/actions", {"action": "pause"})
    assert (status, body["status"]) == (200, "PAUSED"), body
    assert _status(runtime, top) == "RUNNING"  # its parent goes on
    status, body = call("POST", f"/runs/{kid}/actions", {"action": "pause"})
    assert status == 409 and body["allowed"] == ["kill", "resume", "stop"]
    runtime.pump(wait=False)
    assert _status(runtime, kid) == "PAUSED"
    status, body = call("POST", f"/runs/{kid}/actions", {"action": "resume"})
    assert (status, body["status"]) == (200, "RUNNING"), body
    status, body = call("POST", f"/runs/{kid}/actions", {"action": "stop"})
    assert (status, body["status"]) == (200, "STOPPED"), body
    runtime.pump()
    assert _status(runtime, top) == "SUCCEEDED"  # its step succeeded as the child started


def test_pausing_and_stopping_the_parent_leave_a_detached_child_alone(
    runtime: LocalRuntime,
) -> None:
    top, kid = _started(runtime, wait=False)
    run_action(runtime.services, top, RunAction.PAUSE, ME)
    assert (_status(runtime, top), _status(runtime, kid)) == ("PAUSED", "RUNNING")
    run_action(runtime.services, top, RunAction.STOP, ME)
    assert (_status(runtime, top), _status(runtime, kid)) == ("STOPPED", "RUNNING")
    runtime.pump()
    assert _status(runtime, kid) == "SUCCEEDED"


def test_a_waited_for_child_still_pauses_with_its_parent(runtime: LocalRuntime) -> None:
    top, kid = _started(runtime, wait=True)
    assert not detached(runtime.services, runtime.services.store.get_run(kid))
    with pytest.raises(ActionRefused) as refused:
        run_action(runtime.services, kid, RunAction.PAUSE, ME)
    assert refused.value.message == (
        f"cannot pause run {kid}: it is RUNNING; allowed from RUNNING: kill, stop (it is a"
        f" child run of step sub of run {top}, and pauses and resumes with it: pause run"
        f" {top}, or set a breakpoint on a step of its body)"
    )
    run_action(runtime.services, top, RunAction.PAUSE, ME)
    assert _status(runtime, kid) == "PAUSED"
    with pytest.raises(ActionRefused, match="resumes with it: resume run"):
        run_action(runtime.services, kid, RunAction.RESUME, ME)


@pytest.mark.parametrize("other_seconds", [300, 1])
def test_the_sweeper_leaves_a_paused_detached_child_paused(
    runtime: LocalRuntime, other_seconds: int
) -> None:
    from podium.service.sweep import sweep

    top, kid = _started(runtime, wait=False, other_seconds=other_seconds)
    run_action(runtime.services, kid, RunAction.PAUSE, ME)
    runtime.clock.advance(2_000)  # type: ignore[attr-defined]
    runtime.pump(wait=False)
    assert _status(runtime, top) == ("RUNNING" if other_seconds > 1 else "SUCCEEDED")
    for _ in range(3):
        runtime.clock.advance(runtime.services.stale_ready_ms * 10)  # type: ignore[attr-defined]
        sweep(runtime.services, runtime.services.store)
    assert _status(runtime, kid) == "PAUSED"
