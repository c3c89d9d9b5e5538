"""``podium steps retry`` of a step whose wait_for never matched (its wait TIMED_OUT while
another branch runs on): a retry would claim it at once and run it without any signal,
so it is refused, saying to restart the run (whose step waits again). A step that got
its signals and then failed is retried as any failed step, with those signals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import StepAction
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, step_action
from podium.service.signals import send_signal

HERE = "tests.unit.test_retry_of_a_wait"
CALLS: list[dict[str, Any]] = []
STATE: dict[str, bool] = {}


def report(event: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(event["payload"])
    if STATE.get("broken"):
        raise ValueError("report failed")
    return {"ok": True}


WAITS = {
    "name": "waits",
    "steps": [
        {
            "id": "report",
            "type": "lambda",
            "function": f"{HERE}:report",
            "timeout": 60,  # also bounds the wait
            "wait_for": [{"signal": "sales_ready"}],
            "payload": {"table": "${signal.sales_ready.payload.table}"},
        },
        {"id": "other", "type": "sleep", "seconds": 3600},  # the run runs on
    ],
}


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    CALLS.clear()
    STATE.clear()
    home = {"home": tmp_path} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


def status(rt: LocalRuntime, run_id: str, step: str) -> tuple[StepStatus, int]:
    record = rt.services.store.get_step(run_id, step)
    assert record is not None
    return record.status, record.attempt


def timed_out_while_the_run_runs_on(rt: LocalRuntime) -> tuple[str, ManualClock]:
    rt.push(WAITS)
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(61_000)
    rt.pump(advance_time=False)
    assert status(rt, run.run_id, "report") == (StepStatus.TIMED_OUT, 0)
    assert rt.services.store.get_run(run.run_id).status is RunStatus.RUNNING
    return run.run_id, clock


def test_a_retried_wait_waits_again_and_runs_with_its_signal(rt: LocalRuntime) -> None:
    run_id, clock = timed_out_while_the_run_runs_on(rt)
    retried_at = clock.now_ms()
    result = step_action(rt.services, run_id, "report", StepAction.RETRY, Actor("ops"))
    assert result.status == "RETRY_WAIT"
    rt.pump(advance_time=False)
    record = rt.services.store.get_step(run_id, "report")
    assert record is not None and record.status is StepStatus.WAITING_FOR_SIGNALS
    assert record.attempt == 0 and record.waiting_since == retried_at and record.ended_at is None
    assert CALLS == []  # not run without its signal
    send_signal(rt.services, SignalRequest("sales_ready", payload={"table": "sales"}))
    rt.pump(advance_time=False)
    assert status(rt, run_id, "report") == (StepStatus.SUCCEEDED, 1)
    assert CALLS == [{"table": "sales"}]


def test_a_signal_already_there_releases_the_retried_wait_at_once(rt: LocalRuntime) -> None:
    run_id, _ = timed_out_while_the_run_runs_on(rt)
    send_signal(rt.services, SignalRequest("sales_ready", payload={"table": "late"}))
    step_action(rt.services, run_id, "report", StepAction.RETRY, Actor("ops"))
    rt.pump(advance_time=False)
    assert status(rt, run_id, "report") == (StepStatus.SUCCEEDED, 1)
    assert CALLS == [{"table": "late"}]


def test_a_retried_wait_times_out_again_at_its_own_deadline(rt: LocalRuntime) -> None:
    run_id, clock = timed_out_while_the_run_runs_on(rt)
    step_action(rt.services, run_id, "report", StepAction.RETRY, Actor("ops"))
    rt.pump(advance_time=False)
    clock.advance(59_000)
    rt.pump(advance_time=False)
    assert status(rt, run_id, "report") == (StepStatus.WAITING_FOR_SIGNALS, 0)
    clock.advance(2_000)
    rt.pump(advance_time=False)
    assert status(rt, run_id, "report") == (StepStatus.TIMED_OUT, 0)
    assert CALLS == []


def test_a_step_that_got_its_signals_and_failed_is_retried_with_them(rt: LocalRuntime) -> None:
    STATE["broken"] = True
    send_signal(rt.services, SignalRequest("sales_ready", payload={"table": "sales"}))
    rt.push(WAITS)
    run = rt.start_run("waits")
    rt.pump(advance_time=False)
    assert status(rt, run.run_id, "report") == (StepStatus.FAILED, 1)
    STATE["broken"] = False
    step_action(rt.services, run.run_id, "report", StepAction.RETRY, Actor("ops"))
    rt.pump(advance_time=False)
    assert status(rt, run.run_id, "report") == (StepStatus.SUCCEEDED, 2)
    assert CALLS == [{"table": "sales"}, {"table": "sales"}]
