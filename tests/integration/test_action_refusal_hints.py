"""A refused action names only what is allowed, and its hint a restart that works: a
loop iteration's run is restarted through its top run (from a path into it), and a run
restarted already is not restarted again. The refusals offered ``restart`` there, and
hinted at restarts that were refused in turn."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.actions import ActionRefused, RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action, step_action
from tests.integration.test_api_actions import call

BROKEN = {"on": True}
ME = Actor("alice")


def work(event: dict[str, Any]) -> str:
    if BROKEN["on"] and event["payload"].get("i") == 1:
        raise ValueError("broken")
    return "ok"


FE = {
    "name": "fe",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1]},
            "steps": [
                {
                    "id": "w",
                    "type": "lambda",
                    "function": f"{__name__}:work",
                    "payload": {"i": "${iteration.i}"},
                }
            ],
        }
    ],
}
NESTED = {
    "name": "nest",
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
                    "steps": [
                        {
                            "id": "w",
                            "type": "lambda",
                            "function": f"{__name__}:work",
                            "payload": {"i": "${iteration.i + iteration.parent.j}"},
                        }
                    ],
                }
            ],
        }
    ],
}


@pytest.fixture(autouse=True)
def _broken() -> None:
    BROKEN["on"] = True


def _failed(runtime: LocalRuntime, definition: dict[str, Any]) -> str:
    runtime.push(definition)
    run = runtime.start_run(definition["name"])
    runtime.pump()
    assert runtime.describe(run.run_id).run.status is RunStatus.FAILED
    return run.run_id


def test_an_ended_iteration_refuses_with_its_top_runs_restart(runtime: LocalRuntime) -> None:
    top = _failed(runtime, FE)
    kid = child_run_id(top, "loop", 1)
    hinted = f"podium runs restart {top} --from loop/1/<step>"
    for action in ("pause", "restart", "stop"):
        status, body = call("POST", f"/runs/{kid}/actions", {"action": action})
        assert status == 409 and body["allowed"] == [], (action, body)
        assert "restart it to run it again" not in body["message"]
        assert f"it is iteration loop/1 of run {top}" in body["message"]
        assert hinted in body["message"], body["message"]
    # A step action sent straight to the iteration's run: the path from its top run.
    status, body = call("POST", f"/runs/{kid}/steps/actions", {"action": "retry", "step": "w"})
    assert status == 409 and body["allowed"] == []
    assert f"step loop/1/w of run {top}" in body["message"]
    assert f"podium runs restart {top} --from loop/1/w" in body["message"]
    assert f"restart {kid}" not in body["message"]
    BROKEN["on"] = False
    status, body = call("POST", f"/runs/{top}/actions", {"action": "restart", "from": "loop/1/w"})
    assert status == 200, body
    runtime.pump()
    assert runtime.describe(body["new_run"]).run.status is RunStatus.SUCCEEDED


def test_a_nested_iteration_hints_the_whole_path_from_the_top_run(runtime: LocalRuntime) -> None:
    top = _failed(runtime, NESTED)  # outer 0 inner 1, outer 1 inner 0 fail
    kid = child_run_id(child_run_id(top, "outer", 1), "inner", 0)
    with pytest.raises(ActionRefused) as refused:
        run_action(runtime.services, kid, RunAction.RESTART, ME)
    message = refused.value.message
    assert refused.value.allowed == []
    assert f"podium runs restart {top} --from outer/1/inner/0/<step>" in message, message
    with pytest.raises(ActionRefused) as refused:
        step_action(runtime.services, kid, "w", StepAction.SKIP, ME)
    assert f"podium runs restart {top} --from outer/1/inner/0/w" in refused.value.message
    BROKEN["on"] = False
    done = run_action(
        runtime.services,
        top,
        RunAction.RESTART,
        ME,
        RestartRequest(start_from="outer/1/inner/0/w"),
    )
    assert done.new_run is not None


def test_a_restarted_run_refuses_with_its_restart(runtime: LocalRuntime) -> None:
    top = _failed(runtime, FE)
    status, body = call("POST", f"/runs/{top}/actions", {"action": "restart"})
    assert status == 200
    new = body["new_run"]
    status, body = call("POST", f"/runs/{top}/actions", {"action": "stop"})
    assert status == 409 and body["allowed"] == []
    assert "restart it to run it again" not in body["message"]
    assert f"it was restarted as {new}: act on that run" in body["message"]
    status, body = call("POST", f"/runs/{top}/actions", {"action": "restart"})
    assert status == 409 and body["allowed"] == []
    assert f"already restarted as {new}" in body["message"]  # as before: AlreadyRestarted
    assert f"restart {new} instead" in body["message"]
    status, body = call(
        "POST", f"/runs/{top}/steps/actions", {"action": "retry", "step": "loop/1/w"}
    )
    assert status == 409 and f"run {top} was restarted as {new}" in body["message"]
    assert f"podium runs restart {new} --from loop/1/w" in body["message"]
    assert f"podium runs restart {top} " not in body["message"]
    # An ended run restarted by nobody still offers its restart.
    runtime.pump()
    status, body = call("POST", f"/runs/{new}/actions", {"action": "stop"})
    assert status == 409 and body["allowed"] == ["restart"]
    assert "(restart it to run it again)" in body["message"]
