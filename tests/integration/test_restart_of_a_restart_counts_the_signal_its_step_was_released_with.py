"""A restart of a restart waited again for a signal its ``since: step_start`` step had
been released by: the first restart took the step over without its ``signals``
(service/reuse.py take_over copied output and params only), so ``released_with``, which
reads the step in the run restarted, found nothing kept, and the step sat
WAITING_FOR_SIGNALS until its timeout; a restart straight from the first run ran it at
once. The console showed the taken-over step's signals as not known either."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.actions import RunAction
from podium.core.engine.outputs import is_ref
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.console_views import step_detail
from podium.service.restart import RestartRequest
from podium.service.signals import send_signal
from tests.integration.test_restarted_step_start_wait_counts_its_kept_signal_on_every_check import (
    BROKEN,
    SEEN,
    clock,
    rt_fixture,  # noqa: F401  (the fixture `rt`)
    status,
    work,
)


def restart(rt: LocalRuntime, run_id: str, start: str) -> str:
    result = run_action(rt.services, run_id, RunAction.RESTART, Actor("ops"), RestartRequest(start))
    assert result.new_run is not None
    return result.new_run


FUNCTION = f"{work.__module__}:work"
CHAIN = {
    "name": "chain",
    "steps": [
        {
            "id": "extract",
            "type": "lambda",
            "function": FUNCTION,
            "timeout": "10d",
            "wait_for": [{"signal": "files_ready", "since": "step_start"}],
            "payload": {"table": "${signal.files_ready.payload.table}"},
        },
        {"id": "load", "type": "lambda", "function": FUNCTION, "depends_on": ["extract"]},
    ],
}


def _first_restart(rt: LocalRuntime, payload: Any) -> tuple[str, str]:
    """extract released by files_ready and succeeded, load failed; restarted from
    incomplete (extract taken over), load failed again."""
    rt.push(CHAIN)
    BROKEN.add("load")
    run = rt.start_run("chain")
    rt.pump(advance_time=False)
    clock(rt).advance(1000)
    send_signal(rt.services, SignalRequest("files_ready", request_id="files-1", payload=payload))
    rt.pump(advance_time=False)
    assert rt.store.get_run(run.run_id).status is RunStatus.FAILED
    assert status(rt, run.run_id, "extract") is StepStatus.SUCCEEDED
    clock(rt).advance(60_000)
    first = restart(rt, run.run_id, "incomplete")
    rt.pump(advance_time=False)
    assert rt.store.get_run(first).status is RunStatus.FAILED
    return run.run_id, first


@pytest.mark.parametrize("start", ["beginning", "extract"])
def test_the_second_restarts_step_ran_with_the_signal_it_was_released_with(
    rt: LocalRuntime, start: str
) -> None:
    _, first = _first_restart(rt, {"table": "t1"})
    BROKEN.clear()
    clock(rt).advance(60_000)
    second = restart(rt, first, start)
    rt.pump(advance_time=False)
    assert status(rt, second, "extract") is StepStatus.SUCCEEDED
    assert rt.store.get_run(second).status is RunStatus.SUCCEEDED
    assert SEEN[-2] == {"table": "t1"}  # extract's payload read the kept signal


def test_a_big_signal_taken_over_was_copied_under_the_restarts_own_key(
    rt: LocalRuntime,
) -> None:
    """Signals stored by reference (over 8 KiB) are the restart's own copy: the first
    run's payloads may go (a prune) while the restart lives on."""
    run_id, first = _first_restart(rt, {"table": "t1", "pad": "x" * 20_000})
    old = rt.store.get_step(run_id, "extract")
    taken = rt.store.get_step(first, "extract")
    assert old is not None and taken is not None
    assert is_ref(old.signals) and is_ref(taken.signals)
    assert taken.signals != old.signals  # its own key
    BROKEN.clear()
    clock(rt).advance(60_000)
    second = restart(rt, first, "beginning")
    rt.pump(advance_time=False)
    assert status(rt, second, "extract") is StepStatus.SUCCEEDED


def test_the_console_showed_the_signal_a_taken_over_step_was_released_with(
    rt: LocalRuntime,
) -> None:
    _, first = _first_restart(rt, {"table": "t1"})
    section = step_detail(rt.services, first, "extract")["signals"]
    assert section is not None
    [entry] = section["entries"]
    assert entry["arrived"] is True, entry
    assert entry["signal_id"] is not None
