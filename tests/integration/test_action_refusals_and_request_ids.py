"""Run operations: one request id reused for another step of a run's tree, a pause's
reason kept by a run that then timed out, the API's `current` of a refusal (a status,
not a phrase), and the CLI's restart of an iteration with -p. Found by a review; each
test failed before its fix (its docstring says what was wrong and what is right)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.request_ids import RequestIdReused
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action
from tests.integration.test_api_actions import call

ME = Actor("alice")

LOOPED = {
    "name": "review_loop",
    "steps": [
        {"id": "slow", "type": "sleep", "seconds": 3600},
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1, 2]},
            "steps": [{"id": "s", "type": "sleep", "seconds": 600}],
        },
    ],
}
FAILING = {
    "name": "review_failing",
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "boom", "type": "fail", "message": "bad feed", "depends_on": ["a"]},
    ],
}
HELD = {
    "name": "review_held",
    "steps": [
        {"id": "a", "type": "sleep", "seconds": 60},
        {"id": "b", "type": "noop", "depends_on": ["a"]},
        {"id": "c", "type": "sleep", "seconds": 3600},
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _steps(rt: LocalRuntime, run_id: str) -> dict[str, StepStatus]:
    return {s.step: s.status for s in rt.describe(run_id).steps}


def test_a_request_id_reused_for_another_step_of_the_run_is_refused(rt: LocalRuntime) -> None:
    """docs/operations.md: "the same id with another body (another action, step, ...) is
    refused with 409 request_id_conflict ... and does nothing more". A step action's
    request id is looked up only on the timeline of the run that holds the step
    (service/actions.py step_action -> _recorded(ctx, where.run_id, ...)), so the same id
    sent to POST /runs/TOP/steps/actions for another iteration's step (loop/2/s after
    loop/1/s) or for a step of the top run itself finds nothing recorded there and acts
    again: one request id stops three steps. The reuse must be refused and the other
    steps left RUNNING."""
    rt.push(LOOPED)
    top = rt.start_run("review_loop").run_id
    rt.pump(wait=False)
    same = Actor("ops", None, "one-request")
    first = step_action(rt.services, top, "loop/1/s", StepAction.STOP, same)
    assert first.status == "STOPPED"
    with pytest.raises(RequestIdReused):
        step_action(rt.services, top, "loop/2/s", StepAction.STOP, same)
    assert _steps(rt, child_run_id(top, "loop", 2))["s"] is StepStatus.RUNNING
    with pytest.raises(RequestIdReused):
        step_action(rt.services, top, "slow", StepAction.STOP, same)
    assert _steps(rt, top)["slow"] is StepStatus.RUNNING


def test_a_paused_run_that_times_out_does_not_keep_its_pause_reason(rt: LocalRuntime) -> None:
    """A run paused by an operator and then ended TIMED_OUT by its own `timeout` keeps
    `reason: "paused by alice"` (on_run_deadline, service/lifecycle.py ~505, writes the
    TIMED_OUT transition without touching the reason), so `podium runs show` prints
    "TIMED_OUT (paused by alice)", as if the pause were why it ended. A run that times
    out while RUNNING has no reason; a stop of a paused run replaces the reason. The
    pause's reason must not outlive the pause."""
    rt.push({"name": "review_timeout", "timeout": "10m", "steps": HELD["steps"][2:]})
    run_id = rt.start_run("review_timeout").run_id
    rt.pump(wait=False)
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    rt.clock.advance(11 * 60 * 1000)
    rt.pump(wait=False)
    run = rt.describe(run_id).run
    assert run.status is RunStatus.TIMED_OUT
    assert not (run.reason or "").startswith("paused by"), run.reason


def test_a_second_restart_refusal_reports_the_run_status_as_current(rt: LocalRuntime) -> None:
    """docs/operations.md: a refused action is a 409 with `"current"`: the status. A
    second restart of a restarted run answers `current: "FAILED, already restarted as
    X-r1 (RUNNING)"` (service/restart.py AlreadyRestarted passes that phrase as the
    status), and the message repeats it garbled: "it is FAILED, already restarted as
    ...; allowed from FAILED, already restarted as ... : nothing". `current` must be the
    run's status (FAILED), the restart named in the hint only."""
    rt.push(FAILING)
    run_id = rt.start_run("review_failing").run_id
    rt.pump()
    status, body = call("POST", f"/runs/{run_id}/actions", {"action": "restart"})
    assert status == 200, body
    status, body = call("POST", f"/runs/{run_id}/actions", {"action": "restart"})
    assert status == 409 and body["code"] == "action_refused"
    assert body["current"] == "FAILED", body
    assert "allowed from FAILED, already restarted" not in body["message"], body["message"]


def test_a_step_refusal_in_a_paused_run_reports_a_status_as_current(rt: LocalRuntime) -> None:
    """A step action a PAUSED run refuses (resume of a held step: "resume the run first")
    answers 409 with `current: "in a PAUSED run"` and the message "it is in a PAUSED run;
    allowed from in a PAUSED run: skip, stop" (core/engine/actions.py check_step_action
    passes f"in a {run.value} run" as the status). `current` is documented as the status
    (docs/operations.md, refused actions): it must be a status (the step's PAUSED), not
    a phrase, and the message must read as a sentence."""
    rt.push(HELD)
    run_id = rt.start_run("review_held").run_id
    rt.pump(wait=False)
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    rt.clock.advance(61_000)
    rt.pump(wait=False)
    assert _steps(rt, run_id)["b"] is StepStatus.PAUSED
    status, body = call("POST", f"/runs/{run_id}/steps/actions", {"action": "resume", "step": "b"})
    assert status == 409 and body["code"] == "action_refused"
    assert body["current"] in {s.value for s in StepStatus} | {s.value for s in RunStatus}, body
    assert "allowed from in a" not in body["message"], body["message"]


def test_cli_restart_of_an_iteration_with_params_gives_the_iteration_refusal(
    tmp_path: Path,
) -> None:
    """`podium runs restart TOP.loop.1 --version active -p n=2 --home H` answers
    "workflow 'fe/loop' not found; push it first (podium push FILE)": the CLI types the
    -p values first (cli/action_commands.py _local_params reads
    `active_version(run.workflow)` of the iteration's body workflow, which has no
    versions of its own), before the action is checked, so the operator is told to push
    a workflow that is not theirs. Without -p the same command gives the right refusal
    (a loop iteration is restarted through its top run, from LOOP/INDEX/STEP); with -p
    it must too."""

    from typer.testing import CliRunner

    from podium.cli.main import app

    home = tmp_path / "home"
    looped = {
        "name": "review_cli_loop",
        "params": {"n": {"type": "int", "default": 1}},
        "steps": [
            {
                "id": "loop",
                "type": "foreach",
                "over": {"i": [0, 1]},
                "steps": [{"id": "w", "type": "fail", "message": "bad"}],
            }
        ],
    }
    with LocalRuntime(store="sqlite", home=str(home)) as local:
        local.push(looped)
        top = local.start_run("review_cli_loop").run_id
        local.pump()
    kid = child_run_id(top, "loop", 1)
    args = ["runs", "restart", kid, "--version", "active", "-p", "n=2", "--no-wait"]
    result = CliRunner().invoke(app, [*args, "--home", str(home)])
    assert result.exit_code == 1
    assert "push it first" not in result.output, result.output
    assert f"podium runs restart {top} --from loop/1/<step>" in result.output, result.output
