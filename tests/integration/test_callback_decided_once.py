"""A waiting attempt's result is decided once, at the API (docs/workflow-language.md:
"a second one ... is refused (409 not_waiting)").

The first result (success or fail) is recorded by one conditional write and wins; a
different later one is refused (409 not_waiting), not accepted and then dropped; the
same one again (a client's retry) is accepted again and applied once. A request that
died between the record and its done message loses nothing: its retry, a later
callback, a poll or a heartbeat check sends or applies the recorded result. On the
memory store, the SQLite home and DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.callback_results import RESULT_KIND
from podium.core.engine.callbacks import CALLBACK_EVENT, token_of
from podium.core.engine.outputs import INLINE_OUTPUT_BYTES
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.api_requests import RequestError
from podium.service.bindings import resolve_output
from podium.service.callbacks import (
    MAX_MESSAGE_CHARS,
    RECORDED_CHECK_MS,
    SAME_RESULT_NOTE,
    CallbackRefused,
    callback,
    parse_callback,
)

from .test_api import call


class RequestDied(Exception):
    """The API's Lambda died after its write, before its done message was sent."""


class DyingQueue:
    """The event queue, as the API sees it: the next callback result's send dies."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.died = inner, False

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        if not self.died and message.get("e", {}).get("kind") == CALLBACK_EVENT:
            self.died = True
            raise RequestDied("after the decision's mark, before the done message")
        self._inner.send(message, delay_seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def waiting(**step: Any) -> dict[str, Any]:
    return {
        "name": "cb",
        "steps": [
            {"id": "wait", "type": "wait_for_callback", "timeout": "1h", **step},
            {"id": "after", "type": "noop", "depends_on": ["wait"]},
        ],
    }


APPROVAL = {
    "name": "rel",
    "steps": [
        {"id": "ok", "type": "approval", "message": "deploy?", "approvers": ["alice", "bob"]},
        {"id": "deploy", "type": "noop", "depends_on": ["ok"]},
    ],
}


def begin(rt: LocalRuntime, wf: dict[str, Any], step: str = "wait") -> tuple[str, str]:
    rt.push(wf)
    run = rt.start_run(wf["name"])
    rt.pump(wait=False)
    record = rt.store.get_step(run.run_id, step)
    assert record is not None and record.status is StepStatus.RUNNING
    return run.run_id, token_of(f"{run.run_id}/{step}/1")


def send(rt: LocalRuntime, token: str, body: dict[str, Any]) -> dict[str, Any]:
    return callback(rt.services, token, parse_callback(body))


def step_of(rt: LocalRuntime, run_id: str, step: str = "wait") -> Any:
    record = rt.store.get_step(run_id, step)
    assert record is not None
    return record


def die_once(rt: LocalRuntime, token: str, body: dict[str, Any]) -> None:
    """The callback's request dies between its write and its done message."""
    queue = rt.services.event_queue
    rt.services.event_queue = DyingQueue(queue)  # type: ignore[assignment]
    try:
        with pytest.raises(RequestDied):
            send(rt, token, body)
    finally:
        rt.services.event_queue = queue
    rt.pump(wait=False)


def test_a_different_second_result_is_refused_and_the_first_wins(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    assert send(rt, token, {"success": {"rows": 1}})["accepted"] == "success"
    with pytest.raises(CallbackRefused) as second:
        send(rt, token, {"success": {"rows": 999}})
    assert (second.value.status, second.value.code) == (409, "not_waiting")
    assert "already has its result (success)" in second.value.message
    with pytest.raises(CallbackRefused, match="already has its result") as failed:
        send(rt, token, {"fail": "bad data"})
    assert failed.value.code == "not_waiting"
    assert send(rt, token, {"heartbeat": True})["accepted"] == "heartbeat"  # not a result
    rt.pump()
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert step_of(rt, run_id).output == {"rows": 1}
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
    marks = [e for e in rt.store.list_events(run_id) if e.kind == RESULT_KIND]
    assert len(marks) == 1 and marks[0].detail["result"]["output"] == {"rows": 1}


def test_a_fail_first_wins_over_a_later_success(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    assert send(rt, token, {"fail": "the load failed"})["accepted"] == "fail"
    with pytest.raises(CallbackRefused, match=r"already has its result \(fail\)"):
        send(rt, token, {"success": {"rows": 1}})
    rt.pump()
    assert step_of(rt, run_id).status is StepStatus.FAILED
    assert "the load failed" in (step_of(rt, run_id).error or "")


def test_the_api_answers_409_not_waiting_to_a_different_second_result(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    status, body = call("POST", f"/callbacks/{token}", {"success": {"rows": 1}})
    assert (status, body["accepted"]) == (202, "success")
    status, body = call("POST", f"/callbacks/{token}", {"success": {"rows": 999}})
    assert (status, body["code"]) == (409, "not_waiting")
    rt.pump()
    assert step_of(rt, run_id).output == {"rows": 1}


def test_an_identical_repeat_is_accepted_again_and_applied_once(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting(retries=2))
    body = {"fail": "flaky warehouse"}
    first = send(rt, token, body)
    assert first["accepted"] == "fail" and "repeated" not in first
    again = send(rt, token, body)  # a client retrying after a timeout
    assert (again["accepted"], again.get("repeated")) == ("fail", True)
    rt.pump(wait=False)
    record = step_of(rt, run_id)  # one failure: one retry used, not two
    assert (record.status, record.attempt) == (StepStatus.RETRY_WAIT, 1)
    assert sum(record.retry_counts.values()) == 1
    rt.pump(max_deliveries=2)  # the retry's delay passes: attempt 2 waits
    record = step_of(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 2)
    assert sum(record.retry_counts.values()) == 1
    # Once the attempt is closed, any callback is refused; the same request is told
    # that its result was the one received first.
    status, reply = call("POST", f"/callbacks/{token}", body)
    assert (status, reply["code"]) == (409, "not_waiting")
    assert reply["message"].endswith(SAME_RESULT_NOTE)
    with pytest.raises(CallbackRefused, match="no longer waiting") as other:
        send(rt, token, {"fail": "another message"})  # a different one: refused
    assert SAME_RESULT_NOTE not in other.value.message
    rt.pump(wait=False)
    assert step_of(rt, run_id).attempt == 2  # nothing more happened to the step


def test_an_approval_then_a_rejection_is_refused_and_the_run_succeeds(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, APPROVAL, "ok")
    status, body = call("POST", f"/callbacks/{token}", {"success": {}, "by": "alice"})
    assert (status, body["accepted"]) == (202, "success")
    status, body = call("POST", f"/callbacks/{token}", {"fail": "metrics regressed", "by": "bob"})
    assert (status, body["code"]) == (409, "not_waiting")
    assert "approved" not in body["message"] and "success by alice" in body["message"]
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert step_of(rt, run_id, "ok").output == {"approved": True, "by": "alice", "comment": None}
    assert step_of(rt, run_id, "deploy").status is StepStatus.SUCCEEDED


def test_a_non_approver_is_refused_before_anything_is_recorded(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, APPROVAL, "ok")
    with pytest.raises(CallbackRefused) as refused:
        send(rt, token, {"success": {}, "by": "mallory"})
    assert refused.value.code == "not_an_approver"
    send(rt, token, {"fail": "no", "by": "bob"})  # the first result that counts
    rt.pump()
    assert step_of(rt, run_id, "ok").error_type == "Podium.Rejected"
    assert rt.store.get_run(run_id).status is RunStatus.FAILED


def test_a_request_that_died_after_its_record_is_recovered_by_its_retry(
    rt: LocalRuntime,
) -> None:
    run_id, token = begin(rt, waiting())
    body = {"success": {"rows": 7}}
    die_once(rt, token, body)
    assert step_of(rt, run_id).status is StepStatus.RUNNING  # the done message was lost
    again = send(rt, token, body)  # the client retries its request (it got a 5xx)
    assert (again["accepted"], again.get("repeated")) == ("success", True)
    rt.pump()
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert step_of(rt, run_id).output == {"rows": 7}


def test_a_request_that_died_after_its_record_is_applied_by_a_later_callback(
    rt: LocalRuntime,
) -> None:
    run_id, token = begin(rt, APPROVAL, "ok")
    die_once(rt, token, {"success": {}, "by": "alice"})
    with pytest.raises(CallbackRefused, match="success by alice"):
        send(rt, token, {"fail": "no", "by": "bob"})  # refused, and alice's goes again
    rt.pump()
    assert step_of(rt, run_id, "ok").output == {"approved": True, "by": "alice", "comment": None}
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_request_that_died_after_its_record_is_applied_by_a_poll(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    die_once(rt, token, {"success": {"rows": 3}})
    assert step_of(rt, run_id).status is StepStatus.RUNNING
    rt.event_queue.send(messages.encode(messages.PollStep(run_id, "wait", 1)))
    rt.pump(wait=False)
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert step_of(rt, run_id).output == {"rows": 3}


def test_a_decision_whose_request_died_is_applied_by_the_check_it_set(rt: LocalRuntime) -> None:
    """An approval has no heartbeat and no timeout (its deadline is 10 days away): the
    poll the request set before recording the decision applies it, a minute later,
    though the caller never retries."""
    run_id, token = begin(rt, APPROVAL, "ok")
    die_once(rt, token, {"success": None, "by": "alice"})
    assert step_of(rt, run_id, "ok").status is StepStatus.RUNNING
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(RECORDED_CHECK_MS)
    rt.pump(wait=False)
    assert step_of(rt, run_id, "ok").status is StepStatus.SUCCEEDED
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_big_result_whose_request_died_is_applied_by_a_redelivered_claim(
    rt: LocalRuntime,
) -> None:
    """Over a timeline item's share, the result is recorded in Payloads."""
    run_id, token = begin(rt, waiting())
    big = {"rows": ["x" * 100] * (INLINE_OUTPUT_BYTES // 50)}
    die_once(rt, token, {"success": big})
    mark = next(e for e in rt.store.list_events(run_id) if e.kind == RESULT_KIND)
    assert "result" not in mark.detail and "result_ref" in mark.detail
    rt.work_queue.send(messages.encode(messages.Exec(run_id, "wait", 1)))  # redelivered
    rt.pump(wait=False)
    assert step_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert resolve_output(rt.services, step_of(rt, run_id).output) == big


def test_a_request_that_died_is_applied_by_the_heartbeat_check_not_timed_out(
    rt: LocalRuntime,
) -> None:
    run_id, token = begin(rt, waiting(heartbeat_seconds=60))
    die_once(rt, token, {"fail": "the job crashed"})
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(61_000)  # no heartbeat since: the check comes
    rt.pump(wait=False)
    record = step_of(rt, run_id)
    assert record.status is StepStatus.FAILED
    assert record.error_type == "Podium.CallbackFailed" and "the job crashed" in record.error


def test_a_fail_message_over_the_limit_is_refused_not_cut() -> None:
    assert parse_callback({"fail": "x" * MAX_MESSAGE_CHARS}).error == "x" * MAX_MESSAGE_CHARS
    with pytest.raises(RequestError) as refused:
        parse_callback({"fail": "x" * (MAX_MESSAGE_CHARS + 1)})
    assert (refused.value.status, refused.value.path) == (400, "body.fail")
    assert f"{MAX_MESSAGE_CHARS:,}" in refused.value.message
