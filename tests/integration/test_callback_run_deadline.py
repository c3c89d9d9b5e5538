"""A callback accepted in time is not dropped by the run's own deadline, and a heartbeat
after a deadline is refused.

A result the API accepted (202) before the run's deadline is recorded at once, and
applied by its ``done`` message. When the run's deadline timer was handled before that
message, the run ended TIMED_OUT and its waiting step with it: the accepted result was
lost. Now the run still ends TIMED_OUT at its deadline (nothing after the step starts),
but the step ends with its result (SUCCEEDED with its output, or FAILED with its
error), and its later ``done`` closes nothing twice. Only a run ended by its deadline
with a callback step still waiting reads its timeline for it.

A heartbeat received past the attempt's deadline or the run's, while the attempt still
waits (its timer not handled yet), was answered 202 and recorded; it is refused as a
late result is (409 ``deadline_passed``), through the API, ``podium callback`` and
``podium dev``. On the memory store, the SQLite home and DynamoDB on moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.callbacks import token_of
from podium.core.engine.outputs import INLINE_OUTPUT_BYTES
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.dev_server import DevServer, wait_until
from podium.local.runtime import LocalRuntime
from podium.service import lifecycle, messages
from podium.service.bindings import resolve_output
from podium.service.inbox import handle_event
from podium.service.runtimes.callback import heartbeat_event_id
from tests.integration.dev_support import post as dev_post
from tests.integration.keyed_queue import STORES, keyed_runtime
from tests.integration.test_callback_late_dev import dev  # noqa: F401 (its fixture)
from tests.integration.test_callback_late_dev import step_of as dev_step_of
from tests.integration.test_callback_late_results import (
    assert_deadline_passed,
    clock,
    deadline,
    post,
    record_of,
)

RUN_TIMEOUT_S = 60
STEP_TIMEOUT_S = 300


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def begin(rt: LocalRuntime, step: dict[str, Any] | None = None, **extra: Any) -> str:
    """A run with a 60 s timeout: ``wait`` (a callback step, 300 s), then ``after``."""
    wait = step or {"type": "wait_for_callback", "payload": {"t": 1}}
    wf: dict[str, Any] = {
        "name": "run_deadline",
        "timeout": RUN_TIMEOUT_S,
        "steps": [
            {"id": "wait", "timeout": STEP_TIMEOUT_S, **wait},
            {"id": "after", "type": "noop", "depends_on": ["wait"]},
            *extra.get("others", []),
        ],
    }
    rt.push(wf)
    run_id = rt.start_run("run_deadline").run_id
    rt.pump(wait=False)
    assert record_of(rt, run_id).status is StepStatus.RUNNING
    return run_id


def run_deadline_of(rt: LocalRuntime, run_id: str) -> int:
    run = rt.store.get_run(run_id)
    started = run.started_at if run.started_at is not None else run.created_at
    return started + RUN_TIMEOUT_S * 1000


def run_timer_first(rt: LocalRuntime, run_id: str) -> None:
    """The run's deadline timer is handled now, before any done message queued."""
    clock(rt).advance_to(run_deadline_of(rt, run_id) + 1_000)
    handle_event(rt.services, messages.encode(messages.RunDeadline(run_id)))
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT


def hold_run_timers(rt: LocalRuntime) -> None:
    """The run's deadline timer is late: never delivered (the test handles it itself,
    if at all); every other timer is set as usual."""
    schedule = rt.services.at

    def late_deadlines(message: Any, due_ms: int, *, queue: str) -> None:
        if not isinstance(message, messages.RunDeadline):
            schedule(message, due_ms, queue=queue)

    rt.services.at = late_deadlines  # type: ignore[method-assign]


def step(rt: LocalRuntime, run_id: str, name: str) -> Any:
    return rt.store.get_step(run_id, name)


def accepted(answer: tuple[int, Any], action: str) -> None:
    status, body = answer
    assert (status, body.get("accepted")) == (202, action), body


# ------------------------------------------------------ a result accepted in time


@pytest.mark.parametrize(
    ("body", "status", "output", "error"),
    [
        ({"success": {"rows": 1}}, StepStatus.SUCCEEDED, {"rows": 1}, None),
        ({"fail": "the load failed"}, StepStatus.FAILED, None, "the load failed"),
    ],
)
def test_a_result_accepted_before_the_runs_deadline_is_the_steps_outcome(
    rt: LocalRuntime, body: dict[str, Any], status: StepStatus, output: Any, error: str | None
) -> None:
    run_id = begin(rt)
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, body), next(iter(body)))
    run_timer_first(rt, run_id)  # its done is still queued
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (status, output)
    if error is not None:
        assert error in (record.error or ""), record.error
    assert step(rt, run_id, "after") is None  # nothing after it starts: the run ended
    rt.pump()  # the done: it closes nothing twice
    again = record_of(rt, run_id)
    assert (again.status, again.output, again.ended_at) == (status, output, record.ended_at)
    run = rt.store.get_run(run_id)
    assert (run.status, run.settled) == (RunStatus.TIMED_OUT, True)
    after = step(rt, run_id, "after")
    assert after is None or after.status in (StepStatus.STOPPED, StepStatus.SKIPPED), after
    status_again, refused = post(run_id, body)  # closed: refused, and said to be the same
    assert (status_again, refused["code"]) == (409, "not_waiting"), refused
    assert "this same result was received first" in refused["message"]


def test_a_result_in_time_whose_done_comes_after_the_deadline_starts_nothing(
    rt: LocalRuntime,
) -> None:
    """The done is handled first, but after the run's deadline (its timer still queued):
    the result stands, and nothing after the step starts; the run times out there."""
    hold_run_timers(rt)
    run_id = begin(rt)
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": {"rows": 4}}), "success")
    clock(rt).advance_to(run_deadline_of(rt, run_id) + 1_000)
    rt.pump(advance_time=False)  # the done, then its successor's message, if any
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 4})
    run = rt.store.get_run(run_id)
    assert run.status is RunStatus.TIMED_OUT, run
    after = step(rt, run_id, "after")
    assert after is None or after.status in (StepStatus.STOPPED, StepStatus.SKIPPED), after


def test_a_result_at_the_runs_deadline_itself_is_in_time(rt: LocalRuntime) -> None:
    run_id = begin(rt)
    clock(rt).advance_to(run_deadline_of(rt, run_id))
    accepted(post(run_id, {"success": {"rows": 2}}), "success")
    run_timer_first(rt, run_id)
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 2})


def test_a_success_kept_at_the_runs_deadline_sends_its_steps_emit(rt: LocalRuntime) -> None:
    """A kept success is a success: its ``emit`` is sent (once), as its done sends it."""
    run_id = begin(rt, {"type": "wait_for_callback", "payload": {"t": 1}, "emit": EMIT})
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": {"rows": 5}}), "success")
    run_timer_first(rt, run_id)
    rt.pump(advance_time=False)  # its done: closes nothing twice, sends nothing again
    assert record_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert sent_rows(rt) == [{"rows": 5}]


EMIT = [{"signal": "wait_done", "params": {"rows": "${steps.wait.output.rows}"}}]


def sent_rows(rt: LocalRuntime) -> list[Any]:
    sent = rt.store.signals().find("wait_done", [], now=rt.services.now(), limit=10)
    return [s.params for s in sent]


def test_a_success_kept_by_its_late_done_sends_its_steps_emit(rt: LocalRuntime) -> None:
    """The done is handled first, after the run's deadline: the success it keeps sends
    the step's emit too."""
    hold_run_timers(rt)
    run_id = begin(rt, {"type": "wait_for_callback", "payload": {"t": 1}, "emit": EMIT})
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": {"rows": 7}}), "success")
    clock(rt).advance_to(run_deadline_of(rt, run_id) + 1_000)
    rt.pump(advance_time=False)
    assert record_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert sent_rows(rt) == [{"rows": 7}]


@pytest.mark.parametrize("dies", ["before the write", "after the write"])
def test_a_crash_around_the_kept_write_loses_no_emit(rt: LocalRuntime, dies: str) -> None:
    """The emit is asked for before the success is written. The process dies just
    before that write (the message finds the step still running and looks again; the
    success is kept when the run's ended check ends the step) or just after it (nothing
    redoes the run's end: the message, already sent, is what sends the emit). Either
    way the emit goes out, once."""
    run_id = begin(rt, {"type": "wait_for_callback", "payload": {"t": 1}, "emit": EMIT})
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": {"rows": 3}}), "success")
    transition = rt.store.transition_step
    crashed: list[str] = []

    def dies_at_the_kept_write(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("to") is not StepStatus.SUCCEEDED or crashed:
            return transition(*args, **kwargs)
        crashed.append(dies)
        if dies == "after the write":
            transition(*args, **kwargs)
        raise RuntimeError("the process died")

    rt.store.transition_step = dies_at_the_kept_write  # type: ignore[method-assign]
    clock(rt).advance_to(run_deadline_of(rt, run_id) + 1_000)
    with pytest.raises(RuntimeError, match="the process died"):
        handle_event(rt.services, messages.encode(messages.RunDeadline(run_id)))
    assert crashed
    handle_event(rt.services, messages.encode(messages.RunDeadline(run_id)))  # redelivered
    rt.pump()  # the emit message; the run's ended check
    assert record_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert sent_rows(rt) == [{"rows": 3}]


def test_an_emit_message_for_a_step_that_did_not_succeed_sends_nothing(
    rt: LocalRuntime,
) -> None:
    run_id = begin(rt, {"type": "wait_for_callback", "payload": {"t": 1}, "emit": EMIT})
    lifecycle.stop_run(rt.services, run_id, "stopped by a test")
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.STOPPED
    handle_event(rt.services, messages.encode(messages.Emit(run_id, "wait", 1)))
    assert sent_rows(rt) == []


def test_an_emit_message_stops_looking_at_a_step_that_never_ends(rt: LocalRuntime) -> None:
    """Bounded: a step that stays running (it cannot, in an ended run, past a lease)
    is looked at 30 times, then the emit is dropped with a warning."""
    run_id = begin(rt, {"type": "wait_for_callback", "payload": {"t": 1}, "emit": EMIT})
    looks: list[int] = []
    schedule = rt.services.at

    def counted(message: Any, due_ms: int, *, queue: str) -> None:
        if isinstance(message, messages.Emit):
            looks.append(message.looks)
            handle_event(rt.services, messages.encode(message))
            return
        schedule(message, due_ms, queue=queue)

    rt.services.at = counted  # type: ignore[method-assign]
    handle_event(rt.services, messages.encode(messages.Emit(run_id, "wait", 1)))
    assert looks == list(range(1, 30))
    assert sent_rows(rt) == []


@pytest.mark.parametrize("body", [{"success": {"rows": 1}}, {"fail": "the load failed"}])
def test_a_result_kept_at_the_runs_deadline_records_the_steps_params(
    rt: LocalRuntime, body: dict[str, Any]
) -> None:
    """A kept result records the step's rendered params, as its done records them."""
    params = {"table": "sales_${1 + 1}", "rows": {"type": "int", "value": "${2 * 3}"}}
    run_id = begin(rt, {"type": "wait_for_callback", "payload": {"t": 1}, "params": params})
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, body), next(iter(body)))
    run_timer_first(rt, run_id)
    record = record_of(rt, run_id)
    assert record.status in (StepStatus.SUCCEEDED, StepStatus.FAILED)
    assert record.params == {"table": "sales_2", "rows": 6}


def test_an_approval_decided_in_time_keeps_its_decision(rt: LocalRuntime) -> None:
    approval = {"type": "approval", "message": "ship?", "approvers": ["alice"]}
    run_id = begin(rt, approval)
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 5_000)
    accepted(post(run_id, {"fail": "not today", "by": "alice"}), "fail")
    run_timer_first(rt, run_id)
    record = record_of(rt, run_id)
    assert (record.status, record.error_type) == (StepStatus.FAILED, "Podium.Rejected")
    assert "rejected by alice" in (record.error or "")
    failed = [e for e in rt.store.list_events(run_id) if e.kind == "failed"]
    assert [e.detail["error_detail"]["details"]["by"] for e in failed] == ["alice"]


def test_a_big_output_kept_at_the_runs_deadline_is_stored_as_a_done_stores_it(
    rt: LocalRuntime,
) -> None:
    run_id = begin(rt)
    big = {"blob": "x" * (INLINE_OUTPUT_BYTES * 2)}
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": big}), "success")
    run_timer_first(rt, run_id)
    record = record_of(rt, run_id)
    assert record.status is StepStatus.SUCCEEDED
    assert record.output != big  # a reference, not the output inline
    assert resolve_output(rt.services, record.output) == big


def test_a_result_after_the_runs_deadline_is_still_a_timeout(rt: LocalRuntime) -> None:
    run_id = begin(rt)
    clock(rt).advance_to(run_deadline_of(rt, run_id) + 500)
    assert_deadline_passed(post(run_id, {"success": {"rows": 1}}), f"run {run_id}")
    run_timer_first(rt, run_id)
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT
    rt.pump()
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.TIMED_OUT, None)


def test_a_result_after_the_attempts_own_deadline_is_still_a_timeout(rt: LocalRuntime) -> None:
    """The step's deadline (10 s) comes before the run's (60 s): a result received
    between them was refused (deadline_passed), and is not kept by the run's end."""
    run_id = begin(rt, {"type": "wait_for_callback", "timeout": 10})
    clock(rt).advance_to(deadline(rt, run_id, 10) + 5_000)
    assert_deadline_passed(post(run_id, {"success": {"rows": 1}}), "the attempt's deadline")
    run_timer_first(rt, run_id)  # neither the step's timer nor the done handled yet
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT


def test_only_the_step_with_a_result_in_time_keeps_it(rt: LocalRuntime) -> None:
    other = {"id": "other", "type": "wait_for_callback", "timeout": STEP_TIMEOUT_S}
    run_id = begin(rt, others=[other])
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": {"rows": 1}}), "success")
    run_timer_first(rt, run_id)
    assert record_of(rt, run_id).status is StepStatus.SUCCEEDED
    assert step(rt, run_id, "other").status is StepStatus.TIMED_OUT


def test_a_crash_between_the_runs_end_and_its_steps_end_keeps_the_result(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's timer ended the run, then its worker died before ending its steps: the
    done message (in_ended_run), or the sweeper redoing the run's follow-ups, ends the
    step with its result, not STOPPED."""
    run_id = begin(rt)
    clock(rt).advance_to(run_deadline_of(rt, run_id) - 1_000)
    accepted(post(run_id, {"success": {"rows": 3}}), "success")

    def dies(*_a: Any, **_k: Any) -> list[str]:
        raise RuntimeError("the worker died after the run's end")

    with monkeypatch.context() as patched:
        patched.setattr(lifecycle, "cancel_steps", dies)
        with pytest.raises(RuntimeError):
            run_timer_first(rt, run_id)
    assert rt.store.get_run(run_id).status is RunStatus.TIMED_OUT
    assert record_of(rt, run_id).status is StepStatus.RUNNING
    rt.pump()
    record = record_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 3})
    assert rt.store.get_run(run_id).settled


class CountingStore:
    """The store, counting the run timeline reads (``list_events``)."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.timeline_reads = inner, 0

    def list_events(self, *args: Any, **kwargs: Any) -> Any:
        self.timeline_reads += 1
        return self._inner.list_events(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def counting(rt: LocalRuntime) -> CountingStore:
    store = CountingStore(rt.services.store)
    rt.services.store = store  # type: ignore[assignment]
    return store


def test_a_run_with_no_callback_step_waiting_reads_no_timeline_at_its_deadline(
    rt: LocalRuntime,
) -> None:
    run_id = begin(rt, {"type": "sleep", "seconds": 3600})
    store = counting(rt)
    run_timer_first(rt, run_id)
    assert store.timeline_reads == 0
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT


def test_a_stopped_run_keeps_no_result_and_reads_no_timeline(rt: LocalRuntime) -> None:
    """Only the run's deadline keeps results: a stop ends the waiting step STOPPED,
    as before (its own paragraph in docs/workflow-language.md)."""
    run_id = begin(rt)
    accepted(post(run_id, {"success": {"rows": 1}}), "success")
    store = counting(rt)
    assert lifecycle.stop_run(rt.services, run_id, "stopped by a test") is not None
    assert store.timeline_reads == 0
    assert record_of(rt, run_id).status is StepStatus.STOPPED


# ------------------------------------------------------ a heartbeat after a deadline


def heartbeats(rt: LocalRuntime, run_id: str) -> list[Any]:
    wanted = heartbeat_event_id("wait", 1)
    return [e for e in rt.store.list_events(run_id) if e.event_id == wanted]


def test_a_heartbeat_after_the_attempts_deadline_is_refused_and_not_recorded(
    rt: LocalRuntime,
) -> None:
    run_id = begin(rt, {"type": "wait_for_callback", "timeout": 10, "heartbeat_seconds": 5})
    clock(rt).advance_to(deadline(rt, run_id, 10) - 1_000)
    accepted(post(run_id, {"heartbeat": True}), "heartbeat")  # in time: kept
    assert heartbeats(rt, run_id)
    clock(rt).advance_to(deadline(rt, run_id, 10))
    accepted(post(run_id, {"heartbeat": True}), "heartbeat")  # at the deadline: in time
    clock(rt).advance_to(deadline(rt, run_id, 10) + 1_000)
    assert_deadline_passed(
        post(run_id, {"heartbeat": True}),
        "the heartbeat for attempt 1 of step 'wait'",
        "2026-01-01T00:00:10.000Z",  # the deadline (the clock starts at 2026-01-01)
        "2026-01-01T00:00:11.000Z",  # when it came
        "after the attempt's deadline",
        "timeout of 10 s",
        "not recorded",
        "TIMED_OUT",
    )
    (beat,) = heartbeats(rt, run_id)  # one item per attempt, its last time kept
    assert beat.detail["last_at"] == deadline(rt, run_id, 10)
    rt.pump()
    assert record_of(rt, run_id).status is StepStatus.TIMED_OUT


def test_a_heartbeat_after_the_runs_deadline_is_refused(rt: LocalRuntime) -> None:
    run_id = begin(rt)
    clock(rt).advance_to(run_deadline_of(rt, run_id) + 1)
    assert_deadline_passed(
        post(run_id, {"heartbeat": True}),
        "the heartbeat for attempt 1 of step 'wait'",
        f"after the deadline of run {run_id}",
        "timeout of 60 s",
        "the run ends TIMED_OUT",
    )
    assert heartbeats(rt, run_id) == []


def test_podium_callback_refuses_a_late_heartbeat_locally(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Started in 2020: the CLI's own clock (the real one) is long past both deadlines.
    with LocalRuntime(store="sqlite", home=home, clock=ManualClock(1_600_000_000_000)) as rt:
        run_id = begin(rt)
    token = token_of(f"{run_id}/wait/1")
    result = CliRunner().invoke(app, ["callback", token, "--heartbeat", "--home", str(home)])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "the heartbeat for attempt 1" in text and "(HTTP 409)" in text, text
    assert f"after the deadline of run {run_id}" in text, text


def test_podium_dev_refuses_a_late_heartbeat_as_the_api_does(dev: DevServer) -> None:  # noqa: F811
    wf = {"name": "dev_beat", "steps": [{"id": "wait", "type": "wait_for_callback"}]}
    assert dev_post(dev, "/workflows", wf)[0] == 201
    _, run = dev_post(dev, "/workflows/dev_beat/runs", {})
    run_id = run["run_id"]
    assert wait_until(lambda: dev_step_of(dev, run_id)["status"] == "RUNNING")
    token = token_of(f"{run_id}/wait/1")
    assert dev_post(dev, f"/callbacks/{token}", {"heartbeat": True})[0] == 202
    clock = dev.runtime.clock
    assert isinstance(clock, ManualClock)
    # Past the 10-day default, which has no timer of its own (the sweeper, every 60 s of
    # real time, enforces it): the attempt still waits.
    clock.advance(int(DEFAULT_WAIT_TIMEOUT_SECONDS * 1000) + 1_000)
    status, body = dev_post(dev, f"/callbacks/{token}", {"heartbeat": True})
    assert (status, body["code"]) == (409, "deadline_passed"), body
    assert "after the attempt's deadline" in body["message"]
    result = CliRunner().invoke(app, ["callback", token, "--heartbeat", "--endpoint", dev.url])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "after the attempt's deadline" in text and "(HTTP 409)" in text, text
