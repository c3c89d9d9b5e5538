"""A restart's answer says what became of the new run: under ``first_only`` with
another run active it is DISCARDED at once, under ``sequential`` it may wait QUEUED.
Before, the answer (API, CLI) said only "restarted as X", as if it ran."""

from __future__ import annotations

from typing import Any

import pytest

from podium.cli.action_commands import _print
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from tests.integration.test_api_actions import call


def _wf(strategy: str) -> dict[str, Any]:
    return {
        "name": "once_at_a_time",
        "run_strategy": strategy,
        "steps": [{"id": "work", "type": "sleep", "seconds": 60}],
    }


def _ended_and_active(runtime: LocalRuntime, strategy: str) -> tuple[str, str]:
    runtime.push(_wf(strategy))
    ended = runtime.start_run("once_at_a_time").run_id
    runtime.pump()
    assert runtime.store.get_run(ended).status is RunStatus.SUCCEEDED
    active = runtime.start_run("once_at_a_time").run_id
    assert runtime.store.get_run(active).status is RunStatus.RUNNING
    return ended, active


def test_a_discarded_restart_says_so_and_why(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    ended, active = _ended_and_active(runtime, "first_only")
    status, body = call("POST", f"/runs/{ended}/actions", {"action": "restart"})
    assert status == 200, body
    assert body["new_status"] == "DISCARDED", body
    assert body["new_reason"] == (f"discarded: run {active} is active (run_strategy first_only)"), (
        body
    )
    assert runtime.store.get_run(body["new_run"]).status is RunStatus.DISCARDED
    _print(body, as_json=False)  # what `podium runs restart` prints
    said = " ".join(capsys.readouterr().out.split())
    assert said == (
        f"restart: run {ended} restarted as {body['new_run']}, which is DISCARDED"
        f" (discarded: run {active} is active (run_strategy first_only))"
    ), said


def test_a_queued_restart_says_so_and_a_repeat_says_what_it_is_now(
    runtime: LocalRuntime,
) -> None:
    ended, _ = _ended_and_active(runtime, "sequential")
    actor = Actor("alice", request_id="rq-1")
    first = run_action(runtime.services, ended, RunAction.RESTART, actor)
    assert first.new_status == "QUEUED" and first.as_json()["new_status"] == "QUEUED"
    runtime.pump()  # the active run ends, the restart runs and ends
    again = run_action(runtime.services, ended, RunAction.RESTART, actor)
    assert again.repeated and again.new_run == first.new_run
    assert again.new_status == "SUCCEEDED", again


def test_a_running_restart_answers_running(runtime: LocalRuntime) -> None:
    runtime.push({"name": "free", "steps": [{"id": "a", "type": "sleep", "seconds": 5}]})
    ended = runtime.start_run("free").run_id
    runtime.pump()
    result = run_action(runtime.services, ended, RunAction.RESTART, Actor("alice"))
    assert result.new_status == "RUNNING" and result.new_reason is None


def test_restarting_the_run_that_blocks_a_strict_queue_says_what_holds_it(
    runtime: LocalRuntime,
) -> None:
    """Its restart waits QUEUED behind the block the failed run left: the answer says so
    and names the way out (docs/run-strategies.md)."""
    runtime.push(
        {
            "name": "strict_wf",
            "run_strategy": "strict_sequential",
            "steps": [{"id": "f", "type": "fail"}],
        }
    )
    failed = runtime.start_run("strict_wf").run_id
    runtime.pump()
    assert runtime.store.get_run(failed).status is RunStatus.FAILED
    result = run_action(runtime.services, failed, RunAction.RESTART, Actor("alice"))
    assert result.new_status == "QUEUED"
    assert result.new_reason == (
        f"queued at position 1 of 1; the queue is blocked by failed run {failed}"
        " (strict_sequential); run 'podium unblock strict_wf'"
    ), result.new_reason
