"""A step waiting for a permit when its run was paused was held with the reason "held:
the run is paused (resumed past its breakpoint)" though its workflow had no breakpoint:
the queue was taken as the evidence of a pass. The reason names a breakpoint only where
one is set; the step still goes on when the run is resumed.

On the memory store, the SQLite home and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import run_action
from podium.service.pausing import RUN_PAUSED
from tests.integration.keyed_queue import KEY, STORES, keyed_runtime, step
from tests.integration.test_breakpoint_pause_hold import ME, gated, status


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:
        yield runtime


def test_a_step_queued_for_a_permit_is_held_as_paused_not_past_a_breakpoint(
    rt: LocalRuntime,
) -> None:
    rt.push(gated())
    run_id = rt.start_run("gated").run_id
    rt.pump(wait=False)
    assert status(rt, run_id, "holder") is StepStatus.RUNNING  # holds the permit
    record = step(rt, run_id)
    assert (record.status, record.waiting_key) == (StepStatus.WAITING_FOR_PERMITS, KEY)
    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    rt.pump()  # holder ends and wakes load, whose message finds its run paused: held
    record = step(rt, run_id)
    assert (record.status, record.reason) == (StepStatus.PAUSED, RUN_PAUSED)
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump()
    assert status(rt, run_id, "load") is StepStatus.SUCCEEDED
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
