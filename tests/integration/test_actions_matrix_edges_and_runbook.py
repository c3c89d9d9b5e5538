"""The operators' actions of docs/operations.md taken literally (the actions matrix's
edges and the runbook), through the API handler and the local home's CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from tests.integration.test_actions_local import ETL as NIGHTLY
from tests.integration.test_actions_local import FUNCTIONS as NIGHTLY_FNS
from tests.integration.test_api_actions import call
from tests.integration.test_cli_local import podium, run_id_of


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


# -- the runbook, step 5 ----------------------------------------------------------------
# NIGHTLY (etl_fns:step): extract, then load, which fails while "broken" is there.


def test_runbook_the_restarted_runs_show_names_who_restarted_it_and_why(tmp_path: Path) -> None:
    """Runbook "a failed nightly ETL", step 5 ("`podium runs show RUN-r1`; its
    timeline names who restarted it and why"): the restart's action (by, reason) was
    recorded on the old run only, and the new run's show named neither."""
    home = tmp_path / "home"
    (tmp_path / "etl_fns.py").write_text(NIGHTLY_FNS)
    (tmp_path / "etl.yaml").write_text(NIGHTLY)
    (tmp_path / "broken").touch()
    assert podium(home, "run", str(tmp_path / "etl.yaml")).returncode == 1
    run_id = run_id_of(home, "local_etl")
    (tmp_path / "broken").unlink()  # the fix
    restarted = podium(home, "runs", "restart", run_id, "--reason", "fixed the feed")
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout

    shown = podium(home, "runs", "show", f"{run_id}-r1")
    assert shown.returncode == 0, shown.stderr
    assert "fixed the feed" in shown.stdout and "local:" in shown.stdout, shown.stdout


# -- a refusal's "allowed" --------------------------------------------------------------
FAILED_LOOP = {
    "name": "r33f_failed_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0]},
            "steps": [{"id": "b", "type": "fail"}],
        },
        {"id": "slow", "type": "sleep", "seconds": 3600},
    ],
}


def test_a_refusal_on_a_failed_loop_step_does_not_offer_the_retry_it_refuses(
    rt: LocalRuntime,
) -> None:
    """A refused action on a FAILED loop step offered "allowed: retry", which is then
    refused too (an ended loop step is not retried in place): the list came from the
    status table alone, not from what the step takes."""
    rt.push(FAILED_LOOP)
    run_id = rt.start_run("r33f_failed_loop").run_id
    rt.pump(wait=False)
    steps = {s.step: s.status for s in rt.describe(run_id).steps}
    assert steps == {"each": StepStatus.FAILED, "slow": StepStatus.RUNNING}, steps
    status, retried = call(
        "POST", f"/runs/{run_id}/steps/actions", {"step": "each", "action": "retry"}
    )
    assert status == 409, retried  # a loop is not retried in place: nothing is allowed

    status, body = call("POST", f"/runs/{run_id}/steps/actions", {"step": "each", "action": "skip"})
    assert status == 409 and body["code"] == "action_refused", body
    assert body["allowed"] == retried["allowed"] == [], body
    assert "allowed from FAILED: retry" not in body["message"], body["message"]


# -- a detached child's restart ---------------------------------------------------------
CALLED = {"name": "r33f_called", "steps": [{"id": "cw", "type": "fail", "message": "bad"}]}
DETACHING = {
    "name": "r33f_detaching",
    "steps": [{"id": "det", "type": "subworkflow", "workflow": "r33f_called", "wait": False}],
}


def test_the_restart_of_a_detached_child_can_be_read_and_acted_on_through_the_api(
    rt: LocalRuntime,
) -> None:
    """A `wait: false` child is restarted on its own (docs/operations.md): the API
    restarted it as `TOP.det.0-r1` and then answered 400 invalid_run_id to every route
    taking that id (the run id check took `-rN` only on a top run's id)."""
    rt.push(CALLED)
    rt.push(DETACHING)
    top = rt.start_run("r33f_detaching").run_id
    rt.pump()
    kid = child_run_id(top, "det", 0)
    assert rt.describe(kid).run.status.value == "FAILED"
    status, body = call("POST", f"/runs/{kid}/actions", {"action": "restart"})
    assert status == 200, body
    new_run = body["new_run"]

    status, shown = call("GET", f"/runs/{new_run}")
    assert status == 200, shown
    assert shown["run"]["restart_of"] == kid
    status, again = call("POST", f"/runs/{new_run}/actions", {"action": "restart"})
    assert status != 400, again


# -- the local home: a step held for a person --------------------------------------------
TIMED = """
name: r33f_timed
timeout: 1h
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a]}
"""


def test_podium_run_does_not_fast_forward_a_run_held_at_a_breakpoint_to_its_timeout(
    tmp_path: Path,
) -> None:
    """A step at a breakpoint waits PAUSED until `podium steps resume`: `podium run`
    of a workflow with `timeout: 1h` and a breakpoint on `b` jumped its virtual clock to
    the timeout (run TIMED_OUT, `b` STOPPED in milliseconds). It now stops there, the
    run RUNNING and `b` PAUSED, for the resume."""
    home = tmp_path / "home"
    wf = tmp_path / "timed.yaml"
    wf.write_text(TIMED)
    assert podium(home, "run", str(wf)).returncode == 0
    assert podium(home, "break", "set", "r33f_timed", "b").returncode == 0
    podium(home, "run", str(wf))  # held at the breakpoint: not over
    run_id = run_id_of(home, "r33f_timed")
    body = json.loads(podium(home, "runs", "show", run_id, "--json").stdout)
    steps = {s["step"]: s["status"] for s in body["steps"]}
    assert (body["run"]["status"], steps["b"]) == ("RUNNING", "PAUSED"), (body["run"], steps)


# -- the CLI's line for a step of an iteration -------------------------------------------
SLEEPY_LOOP = {
    "name": "r33f_sleepy_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1]},
            "steps": [{"id": "w", "type": "sleep", "seconds": 3600}],
        }
    ],
}


def test_the_cli_line_of_a_step_action_in_an_iteration_names_a_path_that_works(
    tmp_path: Path,
) -> None:
    """`podium steps stop TOP each/0/w` printed "step each/0/w of run TOP.each.0": the
    path from the top run beside the iteration's run id, a combination that names no
    step. It names the step in the run acted on: "step w of run TOP.each.0"."""
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=str(home), clock=ManualClock()) as local:
        local.push(SLEEPY_LOOP)
        top = local.start_run("r33f_sleepy_loop").run_id
        local.pump(wait=False)
    kid = child_run_id(top, "each", 0)
    result = CliRunner().invoke(
        app, ["steps", "stop", top, "each/0/w", "--no-wait", "--home", str(home)]
    )
    assert result.exit_code == 0, result.output
    assert f"step each/0/w of run {kid}" not in result.output, result.output
    assert f"step each/0/w of run {top}" in result.output or f"step w of run {kid}" in (
        result.output
    ), result.output


# -- the local home: a step action in a paused run ---------------------------------------
PAUSABLE = {
    "name": "r33f_pausable",
    "steps": [
        {"id": "a", "type": "sleep", "seconds": 40},
        {"id": "w", "type": "noop", "wait_for": [{"signal": "r33f_go"}]},
    ],
}


def test_a_local_step_action_in_a_paused_run_returns_without_waiting_for_its_sleeps(
    tmp_path: Path,
) -> None:
    """A local step action in a PAUSED run (`podium steps skip RUN w`) waited in real
    time for a sleep running beside it before printing "run X PAUSED" (an hour for
    `sleep: 3600`), though nothing moves a paused run on before a resume."""
    import os
    import subprocess
    import sys

    from podium.core.engine.actions import RunAction
    from podium.service.actions import Actor, run_action

    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=str(home), virtual_time=False) as local:
        local.push(PAUSABLE)
        run_id = local.start_run("r33f_pausable").run_id
        local.pump(wait=False)
        run_action(local.services, run_id, RunAction.PAUSE, Actor("alice"))
        steps = {s.step: s.status for s in local.describe(run_id).steps}
    assert steps == {"a": StepStatus.RUNNING, "w": StepStatus.WAITING_FOR_SIGNALS}, steps
    env = {k: v for k, v in os.environ.items() if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE")}
    env.update(PODIUM_HOME=str(home), COLUMNS="200", HOME=str(tmp_path))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "podium.cli.main", "steps", "skip", run_id, "w"],
            capture_output=True,
            text=True,
            env=env,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("podium steps skip in a PAUSED run still waited after 15 s (sleep: 40 s)")
    assert done.returncode == 0, done.stderr
    assert f"run {run_id} PAUSED" in done.stdout, done.stdout


LOOP_BODY_BREAK = """
name: r33f_loop_break
steps:
  - id: each
    type: foreach
    over: {i: [0, 1]}
    steps:
      - {id: a, type: noop}
      - {id: b, type: noop, depends_on: [a]}
"""


def test_podium_run_stops_at_a_breakpoint_in_a_loop_body_and_says_how_to_go_on(
    tmp_path: Path,
) -> None:
    """A breakpoint on a loop body's step held both iterations, and `podium run` let its
    recovery jump the virtual clock past the loop's 10-day timeout (the loop TIMED_OUT).
    It stops with the iterations held, says how to resume them, and the resume of one
    iteration's step runs it on."""
    home = tmp_path / "home"
    wf = tmp_path / "loop.yaml"
    wf.write_text(LOOP_BODY_BREAK)
    assert podium(home, "run", str(wf)).returncode == 0
    assert podium(home, "break", "set", "r33f_loop_break", "each/b").returncode == 0
    held = podium(home, "run", str(wf))
    assert "held at a breakpoint" in held.stderr, held.stderr
    run_id = run_id_of(home, "r33f_loop_break")
    body = json.loads(podium(home, "runs", "show", run_id, "--json").stdout)
    assert body["run"]["status"] == "RUNNING", body["run"]
    kid = child_run_id(run_id, "each", 0)
    iteration = json.loads(podium(home, "runs", "show", kid, "--json").stdout)
    assert {s["step"]: s["status"] for s in iteration["steps"]}["b"] == "PAUSED"
    resumed = podium(home, "steps", "resume", run_id, "each/0/b")
    assert resumed.returncode == 0, resumed.stderr
    iteration = json.loads(podium(home, "runs", "show", kid, "--json").stdout)
    assert iteration["run"]["status"] == "SUCCEEDED", iteration["run"]
