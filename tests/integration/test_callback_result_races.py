"""A callback result accepted in time is never dropped by a deadline's timer racing it.

The API records a result (a timeline item, the mark) and then sends its ``done``; a
deadline's timer (the run's ``timeout``, or the step's) reads the timeline for a
recorded result and, finding none, ends the attempt. Both read the step RUNNING first,
so the timer could read the timeline just before the mark landed and end the step just
after: the API answered 202 and the result was dropped (simulation seed 827 of
``callback_run_deadline``). Now the API notes the result on the step after the mark
(one conditional write, RUNNING at its attempt) and a deadline's end requires no note:

- the note lands first: the deadline's end is refused; the run's deadline keeps the
  result (read again), the step's deadline leaves it to the result's ``done``;
- the end lands first: the note is refused and the caller told 409 (not applied),
  unless the end was this very result (the timer found the mark): then 202.

Each race is forced by running the timer inside the request (or the request inside the
timer) at the exact store call where the real one may interleave. On the memory store,
the SQLite home and DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.inbox import handle_event
from tests.integration.keyed_queue import STORES, keyed_runtime
from tests.integration.test_callback_late_results import begin as begin_waiting
from tests.integration.test_callback_late_results import clock, post, record_of

RUN_TIMEOUT_S = 60
STEP_TIMEOUT_S = 300
FAILED_BY = "Podium.CallbackFailed"


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def begin(rt: LocalRuntime, *, run_timeout: int | None) -> str:
    """``wait`` (a callback step, 300 s), then ``after``; the run's timeout if given."""
    return begin_waiting(rt, run_timeout=run_timeout, timeout=STEP_TIMEOUT_S)


def run_deadline_at(rt: LocalRuntime, run_id: str) -> int:
    """The clock at the run's deadline exactly: a result received now is in time, and
    the run's timer handled now ends the run."""
    run = rt.store.get_run(run_id)
    started = run.started_at if run.started_at is not None else run.created_at
    at = started + RUN_TIMEOUT_S * 1000
    clock(rt).advance_to(at)
    return at


def step_deadline_at(rt: LocalRuntime, run_id: str) -> int:
    at = int(record_of(rt, run_id).started_at) + STEP_TIMEOUT_S * 1000
    clock(rt).advance_to(at)
    return at


def run_timer(rt: LocalRuntime, run_id: str) -> None:
    handle_event(rt.services, messages.encode(messages.RunDeadline(run_id)))


def step_timer(rt: LocalRuntime, run_id: str) -> None:
    done = messages.Done(run_id, "wait", 1, messages.DEADLINE_EVENT)
    handle_event(rt.services, messages.encode(done))


def once_after(
    monkeypatch: pytest.MonkeyPatch, rt: LocalRuntime, method: str, then: Callable[[], Any]
) -> list[Any]:
    """The store's ``method``, done for real, then ``then`` run once, in between it and
    whatever its caller does next. Returns what ``then`` returned (once it ran)."""
    real = getattr(rt.store, method)
    ran: list[Any] = []

    def patched(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not ran:
            ran.append(None)
            ran[0] = then()
        return result

    monkeypatch.setattr(rt.store, method, patched)
    return ran


def test_a_result_recorded_after_the_run_timers_read_is_kept(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's timer read the timeline (no mark yet); the request records and notes
    its result, answers 202; the timer's end of the step is refused, and the step ends
    with the result (the run TIMED_OUT: nothing after it starts)."""
    run_id = begin(rt, run_timeout=RUN_TIMEOUT_S)
    run_deadline_at(rt, run_id)
    answers = once_after(monkeypatch, rt, "list_events", lambda: post(run_id, {"success": 7}))
    run_timer(rt, run_id)
    assert answers[0][0] == 202, answers
    monkeypatch.undo()
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, 7)
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    assert rt.store.get_step(run_id, "after") is None  # nothing started after it


def test_a_result_recorded_after_the_step_timers_read_is_applied(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step's deadline timer read the timeline (no mark yet); the request records
    and notes its result (received at the deadline: in time), answers 202; the
    timeout's end yields, and the result's done applies it: the run goes on."""
    run_id = begin(rt, run_timeout=None)
    step_deadline_at(rt, run_id)
    answers = once_after(
        monkeypatch, rt, "list_events", lambda: post(run_id, {"success": {"rows": 3}})
    )
    step_timer(rt, run_id)
    assert answers[0][0] == 202, answers
    monkeypatch.undo()
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 3})
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_result_recorded_after_the_step_ended_is_refused_not_dropped(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request read the step RUNNING; the run's timer then ended the run and the
    step (no result recorded yet); the request records its result: its note is
    refused, and it answers 409 (not applied), never 202."""
    run_id = begin(rt, run_timeout=RUN_TIMEOUT_S)
    run_deadline_at(rt, run_id)
    once_after(monkeypatch, rt, "get_step", lambda: run_timer(rt, run_id))
    status, body = post(run_id, {"success": 7})
    monkeypatch.undo()
    assert (status, body["code"]) == (409, "not_waiting"), body
    assert "TIMED_OUT" in body["message"] and "not applied" in body["message"], body
    rt.pump(wait=False)
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT


def test_a_result_the_run_timer_applied_before_its_note_is_accepted(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's timer handled between the request's mark and its note finds the mark
    and ends the step with it: the refused note reads that on the step (202)."""
    run_id = begin(rt, run_timeout=RUN_TIMEOUT_S)
    run_deadline_at(rt, run_id)
    once_after(monkeypatch, rt, "put_event_once", lambda: run_timer(rt, run_id))
    status, body = post(run_id, {"success": 7})
    monkeypatch.undo()
    assert (status, body.get("accepted")) == (202, "success"), body
    rt.pump(wait=False)
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, 7)


@pytest.mark.parametrize("timer_first", [True, False])
def test_a_failure_in_time_ends_the_run_timed_out_whichever_is_handled_first(
    rt: LocalRuntime, timer_first: bool
) -> None:
    """A failure received by the run's deadline and handled after it: the step FAILED
    with it, the run TIMED_OUT (not FAILED), whether its done or the run's timer comes
    first (a done handled after the deadline ends nothing more than the timer would)."""
    run_id = begin(rt, run_timeout=RUN_TIMEOUT_S)
    at = run_deadline_at(rt, run_id)
    clock(rt).advance_to(at - 1_000)
    assert post(run_id, {"fail": "the load failed"})[0] == 202
    clock(rt).advance_to(at + 1_000)
    if timer_first:
        run_timer(rt, run_id)
    rt.pump(advance_time=False)
    run_timer(rt, run_id)  # whenever it comes: nothing more to do
    record = record_of(rt, run_id)
    assert (record.status, record.error) == (StepStatus.FAILED, f"{FAILED_BY}: the load failed")
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT


def test_a_result_an_operators_stop_overrode_is_not_read_as_applied(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request noted its result (202); it is sent again, and reads the step still
    waiting; an operator's stop ends the step before that repeat's note (and before the
    result's done is handled). The repeat is told 409 (the result was not applied: the
    stop clears the note), not 202 as if the note had ended the attempt."""
    from podium.core.engine.actions import StepAction
    from podium.service.actions import Actor, step_action

    run_id = begin(rt, run_timeout=None)
    status, body = post(run_id, {"success": 7})
    assert (status, body.get("accepted")) == (202, "success"), body
    stop = StepAction.STOP
    once_after(
        monkeypatch,
        rt,
        "put_event_once",
        lambda: step_action(rt.services, run_id, "wait", stop, Actor("op")),
    )
    status, body = post(run_id, {"success": 7})
    monkeypatch.undo()
    assert (status, body["code"]) == (409, "not_waiting"), body
    rt.pump(wait=False)
    assert record_of(rt, run_id).status is StepStatus.STOPPED
