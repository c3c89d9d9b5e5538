"""A callback result received after the waiting attempt's deadline is told so.

The engine ends such an attempt TIMED_OUT whichever of the result's ``done`` and the
deadline's timer it handles first (the ``done`` carries when the API received it). The
API answered it 202 all the same: "accepted", for a result that was then ignored. It is
now refused, 409 ``deadline_passed``, with the deadline and what follows in the message.
The late result is still recorded and sent (its ``done`` times the attempt out at once,
with no timer or sweeper needed); its record answers every later result for the attempt
the same way, while it waits, once it has ended, and once a retry has started. A result
received in time and sent again after the deadline is answered as the first was."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.callbacks import token_of
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.inbox import handle_event

from .test_api import call

TIMEOUT_S = 300


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def clock(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def begin(rt: LocalRuntime, *, run_timeout: int | None = None, **step: Any) -> str:
    wf: dict[str, Any] = {
        "name": "late",
        "steps": [
            {"id": "wait", "type": "wait_for_callback", "payload": {"t": 1}, **step},
            {"id": "after", "type": "noop", "depends_on": ["wait"]},
        ],
    }
    if run_timeout is not None:
        wf["timeout"] = run_timeout
    rt.push(wf)
    run_id = rt.start_run("late").run_id
    rt.pump(wait=False)
    assert record_of(rt, run_id).status is StepStatus.RUNNING
    return run_id


def record_of(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "wait")
    assert record is not None
    return record


def post(run_id: str, body: dict[str, Any], attempt: int = 1) -> tuple[int, Any]:
    """Through the API function, as the deployed API (and ``podium dev``) answers."""
    return call("POST", f"/callbacks/{token_of(f'{run_id}/wait/{attempt}')}", body)


def deadline(rt: LocalRuntime, run_id: str, timeout_s: float = TIMEOUT_S) -> int:
    return int(record_of(rt, run_id).started_at) + int(timeout_s * 1000)


def handle_dones_only(rt: LocalRuntime) -> int:
    """Handle the callbacks' done messages now visible, and nothing else (the deadline's
    timer, a heartbeat check, a poll stay queued)."""
    handled = 0
    for m in rt.event_queue.receive(10):
        if json.loads(m.body).get("e", {}).get("kind") == "callback":
            handle_event(rt.services, json.loads(m.body))
            rt.event_queue.delete(m.receipt)
            handled += 1
    return handled


def assert_deadline_passed(answer: tuple[int, Any], *words: str) -> None:
    status, body = answer
    assert (status, body["code"]) == (409, "deadline_passed"), body
    for word in words:
        assert word in body["message"], body["message"]


def test_a_result_received_after_the_deadline_is_refused_and_times_the_attempt_out(
    rt: LocalRuntime,
) -> None:
    run_id = begin(rt, timeout=TIMEOUT_S)
    clock(rt).advance_to(deadline(rt, run_id) + 1_000)
    answer = post(run_id, {"success": {"rows": 1}})  # the timer is due, not handled yet
    assert_deadline_passed(
        answer,
        "attempt 1 of step 'wait'",
        "2026-01-01T00:05:00.000Z",  # the deadline (the clock starts at 2026-01-01)
        "2026-01-01T00:05:01.000Z",  # when it came
        "timeout of 300 s",
        "TIMED_OUT",
        "retry policy",
    )
    # Its done was sent all the same: handled before the deadline's timer, it times the
    # attempt out (it is never a success), and the timer then changes nothing.
    assert handle_dones_only(rt) == 1
    record = record_of(rt, run_id)
    assert (record.status, record.output, record.error_type) == (
        StepStatus.TIMED_OUT,
        None,
        "Podium.Timeout",
    )
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT


@pytest.mark.parametrize("body", [{"success": {"rows": 1}}, {"fail": "the load failed"}])
def test_the_same_late_result_again_gets_the_same_answer_waiting_or_ended(
    rt: LocalRuntime, body: dict[str, Any]
) -> None:
    run_id = begin(rt, timeout=TIMEOUT_S)
    clock(rt).advance_to(deadline(rt, run_id) + 1_000)
    first = post(run_id, body)
    assert_deadline_passed(first)
    assert post(run_id, body) == first  # again while the attempt still waits
    other = {"fail": "x"} if "success" in body else {"success": {}}
    assert_deadline_passed(post(run_id, other))  # another late result: the same reason
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    assert post(run_id, body) == first  # and once the attempt has ended
    assert_deadline_passed(post(run_id, other))


def test_a_late_result_for_an_attempt_that_was_retried_is_still_deadline_passed(
    rt: LocalRuntime,
) -> None:
    retry = [{"errors": ["Podium.Timeout"], "max_attempts": 1, "interval": 1}]
    run_id = begin(rt, timeout=TIMEOUT_S, retry=retry)
    clock(rt).advance_to(deadline(rt, run_id) + 1_000)
    first = post(run_id, {"success": {"rows": 1}})
    assert_deadline_passed(first, "retry policy")
    rt.pump(wait=False)
    clock(rt).advance(2_000)
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 2)  # the policy applied
    assert post(run_id, {"success": {"rows": 1}}) == first  # attempt 1's answer stands
    status, accepted = post(run_id, {"success": {"rows": 2}}, attempt=2)
    assert (status, accepted["accepted"], accepted["attempt"]) == (202, "success", 2)
    rt.pump()
    record = record_of(rt, run_id)
    assert (record.status, record.attempt, record.output) == (
        StepStatus.SUCCEEDED,
        2,
        {"rows": 2},
    )


def test_a_result_received_in_time_and_repeated_late_is_answered_as_the_first_was(
    rt: LocalRuntime,
) -> None:
    run_id = begin(rt, timeout=TIMEOUT_S)
    clock(rt).advance_to(deadline(rt, run_id) - 1_000)
    status, first = post(run_id, {"success": {"rows": 3}})
    assert (status, first["accepted"]) == (202, "success")
    clock(rt).advance_to(deadline(rt, run_id) + 1_000)  # neither message handled yet
    status, again = post(run_id, {"success": {"rows": 3}})
    assert (status, again) == (202, {**first, "repeated": True})
    status, other = post(run_id, {"fail": "too late and different"})
    assert (status, other["code"]) == (409, "not_waiting")  # it has its result
    rt.pump()
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 3})
    status, closed = post(run_id, {"success": {"rows": 3}})
    assert (status, closed["code"]) == (409, "not_waiting")
    assert "this same result was received first" in closed["message"]


def test_a_result_at_the_deadline_itself_is_in_time(rt: LocalRuntime) -> None:
    run_id = begin(rt, timeout=TIMEOUT_S)
    clock(rt).advance_to(deadline(rt, run_id))
    status, _ = post(run_id, {"success": {"rows": 4}})
    assert status == 202
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.SUCCEEDED


def test_a_late_result_under_the_default_timeout_ends_the_attempt_without_the_sweeper(
    rt: LocalRuntime,
) -> None:
    """No ``timeout``: the 10-day default has no timer of its own (the sweeper enforces
    it, past the attempt's lease). The late result's done times it out at once."""
    run_id = begin(rt)
    clock(rt).advance_to(deadline(rt, run_id, DEFAULT_WAIT_TIMEOUT_SECONDS) + 1)
    assert_deadline_passed(post(run_id, {"success": {}}), "timeout of 864000 s")
    assert handle_dones_only(rt) == 1  # no sweep, no timer
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT


def test_a_result_received_after_the_runs_deadline_is_refused(rt: LocalRuntime) -> None:
    run_id = begin(rt, run_timeout=60, timeout=TIMEOUT_S)
    run = rt.store.get_run(run_id)
    started = run.started_at if run.started_at is not None else run.created_at
    clock(rt).advance_to(started + 61_000)  # past the run's deadline, not the step's
    answer = post(run_id, {"success": {"rows": 1}})
    assert_deadline_passed(answer, f"run {run_id}", "timeout of 60 s", "TIMED_OUT")
    assert handle_dones_only(rt) == 1
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    assert record_of(rt, run_id).output is None
    assert post(run_id, {"success": {"rows": 1}}) == answer


def test_an_approver_check_still_comes_first(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "late_ok",
            "steps": [
                {
                    "id": "wait",
                    "type": "approval",
                    "message": "ok?",
                    "approvers": ["bob"],
                    "timeout": TIMEOUT_S,
                }
            ],
        }
    )
    run_id = rt.start_run("late_ok").run_id
    rt.pump(wait=False)
    clock(rt).advance_to(deadline(rt, run_id) + 1_000)
    status, body = post(run_id, {"success": {}, "by": "mallory"})
    assert (status, body["code"]) == (403, "not_an_approver")
    assert_deadline_passed(post(run_id, {"fail": "no", "by": "bob"}))
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT


def test_podium_callback_prints_the_refusal_and_exits_1(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Started in 2020: the CLI's own clock (the real one) is long past its deadline.
    with LocalRuntime(store="sqlite", home=home, clock=ManualClock(1_600_000_000_000)) as rt:
        run_id = begin(rt, timeout=TIMEOUT_S)
        assert deadline(rt, run_id) < time.time() * 1000
    token = token_of(f"{run_id}/wait/1")
    runner = CliRunner()
    result = runner.invoke(app, ["callback", token, "--success", "{}", "--home", str(home)])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "after the attempt's deadline" in text and "TIMED_OUT" in text, text
    assert "(HTTP 409)" in text
    again = runner.invoke(app, ["callback", token, "--success", "{}", "--home", str(home)])
    assert (again.exit_code, " ".join(again.output.split())) == (1, text)
