"""A restarted run's ``since: step_start`` wait counted the signal its step was released
with in the run restarted on its first check only (hold_for_signals passed
``kept=released_with(...)``); every later check (a wake-up, the sweeper's look:
service/signal_waits.py recheck -> check) counted that entry from the restart's wait on.
A step whose other entry was not there yet at the restart (an expired signal) then
waited, once that signal came, for the kept one to be sent again, until its timeout;
and the console showed the kept entry as not arrived."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest, new_signal
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.console_views import step_detail
from podium.service.restart import RestartRequest
from podium.service.signals import send_signal
from podium.service.sweep import sweep

HERE = "tests.integration.test_restarted_step_start_wait_counts_its_kept_signal_on_every_check"
DAY = 86_400_000
BROKEN: set[str] = set()
SEEN: list[Any] = []  # the payload of each call


def work(event: dict[str, Any]) -> dict[str, Any]:
    SEEN.append(event.get("payload"))
    if event["step"] in BROKEN:
        raise ValueError(f"{event['step']} failed")
    return {"ok": True}


@pytest.fixture(params=["memory", "sqlite", "moto"], name="rt")
def rt_fixture(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    BROKEN.clear()
    SEEN.clear()
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, **home) as runtime:
        yield runtime
    BROKEN.clear()


def clock(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def send(rt: LocalRuntime, name: str, request_id: str, ttl_ms: int = 90 * DAY) -> None:
    send_signal(rt.services, SignalRequest(name, request_id=request_id, ttl_ms=ttl_ms))


def status(rt: LocalRuntime, run_id: str, step: str) -> StepStatus:
    record = rt.store.get_step(run_id, step)
    assert record is not None, f"{run_id}/{step} has no record"
    return record.status


TWO_NAMES = {
    "name": "two_names",
    "steps": [
        {
            "id": "report",
            "type": "lambda",
            "function": f"{HERE}:work",
            "timeout": "10d",
            "wait_for": [
                {"signal": "sales_ready", "since": "step_start"},
                {"signal": "costs_ready"},  # since: any
            ],
        }
    ],
}


def _restarted_waiting(rt: LocalRuntime) -> str:
    """report released by sales_ready and costs_ready (ttl 1 day), failed; restarted two
    days later: costs_ready has expired, so the restarted report waits for it."""
    rt.push(TWO_NAMES)
    BROKEN.add("report")
    run = rt.start_run("two_names")
    rt.pump(advance_time=False)
    clock(rt).advance(1000)
    send(rt, "sales_ready", "sales-1")
    send(rt, "costs_ready", "costs-1", ttl_ms=DAY)
    rt.pump(advance_time=False)
    assert rt.store.get_run(run.run_id).status is RunStatus.FAILED
    BROKEN.clear()
    clock(rt).advance(2 * DAY)
    result = run_action(
        rt.services, run.run_id, RunAction.RESTART, Actor("ops"), RestartRequest("incomplete")
    )
    assert result.new_run is not None
    rt.pump(advance_time=False)
    assert status(rt, result.new_run, "report") is StepStatus.WAITING_FOR_SIGNALS
    return result.new_run


def test_the_wake_up_of_the_other_signal_counted_the_kept_one(rt: LocalRuntime) -> None:
    """costs_ready came after the restart: its wake-up's check counted sales_ready
    from the restart's wait on only, and the step went on waiting."""
    new = _restarted_waiting(rt)
    clock(rt).advance(1000)
    send(rt, "costs_ready", "costs-2", ttl_ms=DAY)
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.SUCCEEDED
    assert rt.store.get_run(new).status is RunStatus.SUCCEEDED


def test_the_sweepers_look_counted_the_kept_one(rt: LocalRuntime) -> None:
    """costs_ready was stored with its wake-up lost: the sweeper's look (the fallback)
    counted sales_ready from the restart's wait on only."""
    new = _restarted_waiting(rt)
    signals = rt.services.signals
    assert signals is not None

    clock(rt).advance(1000)
    signals.send(new_signal(SignalRequest("costs_ready", ttl_ms=DAY), rt.services.now()))
    clock(rt).advance(rt.services.stale_ready_ms + 60_000)
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.SUCCEEDED


def test_the_console_showed_the_kept_signal_as_arrived(rt: LocalRuntime) -> None:
    """The console's signal section looked for sales_ready from the restart's wait on:
    it showed the entry that counts (the signal the step was released with) as missing."""
    new = _restarted_waiting(rt)
    section = step_detail(rt.services, new, "report")["signals"]
    assert section is not None and section["waiting"]
    by_name = {e["signal"]: e for e in section["entries"]}
    assert by_name["sales_ready"]["arrived"] is True, by_name["sales_ready"]
    assert by_name["costs_ready"]["arrived"] is False, by_name["costs_ready"]
