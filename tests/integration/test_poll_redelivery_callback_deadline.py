"""A callback result and the step's deadline: the outcome depends on when the API
received the result, never on which of the two messages (the result's ``done``, the
deadline's timer) is handled first.

A result received by the deadline is the attempt's result in either order (the
deadline path applies a recorded result received in time). A result received after
it, while the attempt still waited (the timer not handled yet), is refused (409
deadline_passed) and is a timeout in either order: its ``done`` (sent all the same)
carries when it was received, and ``attempts.apply_result`` turns a completion known to
be past the deadline into a timeout, as it does for a timer's.
(Before, the late result won when its ``done`` was handled first: the step SUCCEEDED,
or FAILED, after its timeout, as message order decided.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.callbacks import token_of
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.callbacks import CallbackRefused, callback, parse_callback
from podium.service.inbox import handle_event
from tests.integration.test_callback_lost_start import clock_of

TIMEOUT_MS = 300_000


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def begin(rt: LocalRuntime, step_type: str = "wait_for_callback", **step: Any) -> str:
    extra = {"message": "ok?"} if step_type == "approval" else {"payload": {"t": 1}}
    wf = {
        "name": "cb",
        "steps": [
            {"id": "wait", "type": step_type, "timeout": TIMEOUT_MS // 1000, **extra, **step}
        ],
    }
    rt.push(wf)
    run_id = rt.start_run("cb").run_id
    rt.pump(wait=False)
    assert status_of(rt, run_id).status is StepStatus.RUNNING
    return run_id


def status_of(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "wait")
    assert record is not None
    return record


def deadline_of(rt: LocalRuntime, run_id: str) -> int:
    return int(status_of(rt, run_id).started_at) + TIMEOUT_MS


def send(rt: LocalRuntime, run_id: str, body: dict[str, Any]) -> None:
    callback(rt.services, token_of(f"{run_id}/wait/1"), parse_callback(body))


def send_late(rt: LocalRuntime, run_id: str, body: dict[str, Any]) -> None:
    """Received after the deadline, while the attempt still waits: refused (409
    deadline_passed), its done sent all the same (it times the attempt out at once)."""
    with pytest.raises(CallbackRefused) as refused:
        send(rt, run_id, body)
    assert (refused.value.status, refused.value.code) == (409, "deadline_passed")


def deliver(rt: LocalRuntime, *, callback_first: bool) -> None:
    """Handle every visible event message once, the callback's done first or last."""
    received = rt.event_queue.receive(10)
    kinds = [json.loads(m.body).get("e", {}).get("kind") for m in received]
    assert "callback" in kinds, kinds  # the result's done and the deadline's timer
    order = sorted(
        zip(kinds, received, strict=True),
        key=lambda km: (km[0] == "callback") != callback_first,
    )
    for _, m in order:
        handle_event(rt.services, json.loads(m.body))
        rt.event_queue.delete(m.receipt)
    rt.pump(wait=False)


ORDERS = pytest.mark.parametrize("callback_first", [True, False], ids=["done_first", "timer_first"])


@ORDERS
def test_a_success_received_after_the_deadline_is_a_timeout_in_either_order(
    rt: LocalRuntime, callback_first: bool
) -> None:
    run_id = begin(rt)
    clock_of(rt).advance_to(deadline_of(rt, run_id) + 1_000)
    send_late(rt, run_id, {"success": {"rows": 1}})  # the timer is not handled yet
    deliver(rt, callback_first=callback_first)
    record = status_of(rt, run_id)
    assert (record.status, record.attempt, record.output) == (StepStatus.TIMED_OUT, 1, None)
    assert "timeout" in (record.error or "")


@ORDERS
def test_a_failure_received_after_the_deadline_is_a_timeout_in_either_order(
    rt: LocalRuntime, callback_first: bool
) -> None:
    run_id = begin(rt)
    clock_of(rt).advance_to(deadline_of(rt, run_id) + 1_000)
    send_late(rt, run_id, {"fail": "the load failed"})
    deliver(rt, callback_first=callback_first)
    record = status_of(rt, run_id)
    assert record.status is StepStatus.TIMED_OUT
    assert record.error_type == "Podium.Timeout"


@ORDERS
def test_a_rejection_received_after_the_deadline_is_a_timeout_in_either_order(
    rt: LocalRuntime, callback_first: bool
) -> None:
    run_id = begin(rt, "approval", approvers=["bob"])
    clock_of(rt).advance_to(deadline_of(rt, run_id) + 1_000)
    send_late(rt, run_id, {"fail": "no", "by": "bob"})
    deliver(rt, callback_first=callback_first)
    assert status_of(rt, run_id).status is StepStatus.TIMED_OUT


@ORDERS
def test_a_result_received_by_the_deadline_wins_in_either_order(
    rt: LocalRuntime, callback_first: bool
) -> None:
    """Guard (it held before): received in time, handled after the deadline."""
    run_id = begin(rt)
    clock_of(rt).advance_to(deadline_of(rt, run_id) - 1_000)
    send(rt, run_id, {"success": {"rows": 2}})
    clock_of(rt).advance_to(deadline_of(rt, run_id) + 1_000)  # both due, neither handled
    deliver(rt, callback_first=callback_first)
    record = status_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 2})


@ORDERS
def test_a_result_received_in_time_and_repeated_late_is_still_in_time(
    rt: LocalRuntime, callback_first: bool
) -> None:
    """The same result sent again after the deadline (its first reply was lost) is
    answered as the first was, and its done says when the first came."""
    run_id = begin(rt)
    clock_of(rt).advance_to(deadline_of(rt, run_id) - 1_000)
    send(rt, run_id, {"success": {"rows": 3}})
    for m in rt.event_queue.receive(10):  # the first done died with its request
        rt.event_queue.delete(m.receipt)
    clock_of(rt).advance_to(deadline_of(rt, run_id) + 1_000)
    send(rt, run_id, {"success": {"rows": 3}})  # repeated: its done sent again
    deliver(rt, callback_first=callback_first)
    record = status_of(rt, run_id)
    assert (record.status, record.output) == (StepStatus.SUCCEEDED, {"rows": 3})
