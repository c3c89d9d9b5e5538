"""A restart of a run whose ``since: step_start`` wait had been released, and whose
attempt then failed, made the step wait again: its new wait counted only signals sent
from the restart on, so the signal that had released it no longer did and the restarted
step sat WAITING_FOR_SIGNALS until its timeout (10 days by default) unless someone sent
the signal again. A retry of that step in place runs it with its signals; in Maestro a
restarted step's signal dependencies match the stored signal again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.restart import RestartRequest
from podium.service.signals import send_signal

HERE = "tests.integration.test_restart_keeps_the_signal_a_step_start_wait_was_released_with"
CALLS: list[Any] = []
BROKEN: set[str] = set()


def report(event: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(event["payload"])
    if BROKEN:
        raise ValueError("report failed")
    return {"ok": True}


FRESH = {
    "name": "fresh",
    "steps": [
        {"id": "first", "type": "noop"},
        {
            "id": "report",
            "type": "lambda",
            "function": f"{HERE}:report",
            "depends_on": ["first"],
            "timeout": 3600,  # also bounds the wait
            "wait_for": [
                {"signal": "sales_ready", "match": {"day": "d1"}, "since": "step_start"},
                {"signal": "costs_ready"},  # since: any, for contrast
            ],
            "payload": {
                "sales": "${signal.sales_ready.payload.table}",
                "costs": "${signal.costs_ready.payload.table}",
            },
        },
    ],
}


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN.clear()
    home = tmp_path if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def clock_of(rt: LocalRuntime) -> ManualClock:
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    return clock


def send(rt: LocalRuntime, name: str, table: str, **params: str | int) -> None:
    # A request id each: the same name and params would otherwise be the same signal.
    request = SignalRequest(name, params, payload={"table": table}, request_id=table)
    send_signal(rt.services, request)


def released_then_failed(rt: LocalRuntime) -> str:
    """A run whose step waited, was released by signals sent while it waited, and failed."""
    BROKEN.add("report")
    rt.push(FRESH)
    clock = clock_of(rt)
    send(rt, "sales_ready", "stale", day="d1")  # before the wait: step_start ignores it
    clock.advance(1000)
    run = rt.start_run("fresh")
    rt.pump(advance_time=False)
    clock.advance(1000)
    send(rt, "sales_ready", "sales", day="d1")
    send(rt, "costs_ready", "costs")
    rt.pump()
    old = rt.describe(run.run_id)
    assert old.run.status is RunStatus.FAILED
    assert CALLS == [{"sales": "sales", "costs": "costs"}]
    BROKEN.clear()
    CALLS.clear()
    clock.advance(60_000)
    return run.run_id


def step_status(rt: LocalRuntime, run_id: str) -> StepStatus:
    record = rt.services.store.get_step(run_id, "report")
    assert record is not None
    return record.status


@pytest.mark.parametrize("start", ["incomplete", "beginning", "report"])
def test_a_restarted_step_start_wait_is_released_by_the_signal_that_released_it(
    rt: LocalRuntime, start: str
) -> None:
    old = released_then_failed(rt)
    result = run_action(rt.services, old, RunAction.RESTART, Actor("ops"), RestartRequest(start))
    assert result.new_run is not None
    rt.pump(advance_time=False)
    assert step_status(rt, result.new_run) is StepStatus.SUCCEEDED
    assert CALLS == [{"sales": "sales", "costs": "costs"}]  # not the one sent before


def test_a_newer_signal_still_wins_in_the_restarted_wait(rt: LocalRuntime) -> None:
    """As in a first wait, the newest matching signal is used: one sent after the
    first run's release (and before the restart) counts too."""
    old = released_then_failed(rt)
    send(rt, "sales_ready", "newer", day="d1")
    clock_of(rt).advance(1000)
    result = run_action(rt.services, old, RunAction.RESTART, Actor("ops"))
    assert result.new_run is not None
    rt.pump(advance_time=False)
    assert step_status(rt, result.new_run) is StepStatus.SUCCEEDED
    assert CALLS == [{"sales": "newer", "costs": "costs"}]


def test_a_step_never_released_waits_afresh_in_the_restart(rt: LocalRuntime) -> None:
    """A wait that timed out in the first run had no signal to keep: the restart's step
    counts signals from its own wait on, as a first wait does (a signal sent between
    the two waits does not count)."""
    rt.push(FRESH)
    clock = clock_of(rt)
    run = rt.start_run("fresh")
    rt.pump(advance_time=False)
    clock.advance(3_601_000)
    rt.pump()
    assert step_status(rt, run.run_id) is StepStatus.TIMED_OUT
    send(rt, "sales_ready", "between", day="d1")
    send(rt, "costs_ready", "costs")
    clock.advance(1000)
    result = run_action(rt.services, run.run_id, RunAction.RESTART, Actor("ops"))
    assert result.new_run is not None
    rt.pump(advance_time=False)
    assert step_status(rt, result.new_run) is StepStatus.WAITING_FOR_SIGNALS
    send(rt, "sales_ready", "after", day="d1")
    rt.pump(advance_time=False)
    assert step_status(rt, result.new_run) is StepStatus.SUCCEEDED
    assert CALLS == [{"sales": "after", "costs": "costs"}]


# A loop's iteration restarted in full: its step counts the signal too.
LOOPED = {
    "name": "looped",
    "steps": [
        {
            "id": "days",
            "type": "foreach",
            "over": {"i": [0]},
            "steps": [
                {
                    "id": "report",
                    "type": "lambda",
                    "function": f"{HERE}:report",
                    "timeout": 3600,
                    "wait_for": [
                        {"signal": "sales_ready", "match": {"day": "d1"}, "since": "step_start"}
                    ],
                    "payload": {"sales": "${signal.sales_ready.payload.table}"},
                }
            ],
        }
    ],
}


@pytest.mark.parametrize("start", ["beginning", "days"])
def test_a_restarted_iterations_step_start_wait_counts_the_signal_it_was_released_with(
    rt: LocalRuntime, start: str
) -> None:
    """A loop's iteration waited for ``sales_ready`` (since: step_start), was released
    by it and its function failed; the run was restarted from the beginning (or from the
    loop). The iteration's step sat WAITING_FOR_SIGNALS for its whole timeout: the new
    iteration ran in full, with no ``restart_of``, so the old step was not found. It is
    now found through the restarted parent's run (``_redone``)."""
    BROKEN.add("report")
    rt.push(LOOPED)
    clock = clock_of(rt)
    run = rt.start_run("looped")
    rt.pump(advance_time=False)
    clock.advance(1000)
    send_signal(
        rt.services,
        SignalRequest("sales_ready", {"day": "d1"}, payload={"table": "sales"}, request_id="s"),
    )
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED
    assert CALLS == [{"sales": "sales"}]
    BROKEN.clear()
    CALLS.clear()
    clock.advance(60_000)

    result = run_action(
        rt.services, run.run_id, RunAction.RESTART, Actor("ops"), RestartRequest(start)
    )
    assert result.new_run is not None
    rt.pump(advance_time=False)
    child = child_run_id(result.new_run, "days", 0)
    record = rt.services.store.get_step(child, "report")
    assert record is not None
    assert record.status is StepStatus.SUCCEEDED, (
        f"the restarted iteration's step is {record.status.value}; the signal that released"
        f" it in {run.run_id} was not counted"
    )
