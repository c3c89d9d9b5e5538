"""``released_with`` (service/signal_waits.py) for a ``since: step_start`` wait inside a
loop's iteration when the run is restarted: the top-level step of the same restart
counts the signal it was released with, and now an iteration's step too."""

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

HERE = "tests.integration.test_restarted_iteration_counts_the_signal_it_was_released_with"
CALLS: list[Any] = []
BROKEN: set[str] = set()


def report(event: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(event["payload"])
    if BROKEN:
        raise ValueError("report failed")
    return {"ok": True}


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


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN.clear()
    home = tmp_path if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def _clock(rt: LocalRuntime) -> ManualClock:
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    return clock


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
    clock = _clock(rt)
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
