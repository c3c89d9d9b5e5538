"""An operator's retry in place of a failed subworkflow step, after the fix was pushed.

It ran the broken version again: the retry reused the version the step's first attempt
recorded, which binds only the step's own retries. It resolves the version again now
(the retry clears what the step recorded), on every store.

docs/operations.md ("Retrying a failed step while its run still runs") has the operator
retry a FAILED step "after the fix". For a subworkflow step that calls the active
version of a workflow, the fix is a new version of that workflow. Since the subworkflow
retry reuses the version recorded on the step (runtimes/subworkflow.py
``_recorded_version``: any attempt after the first), the operator's retry runs the
broken version again: the step fails again, and only a restart (after the run has ended)
runs the fix. The recorded version should bind the step's own retry policy, not a retry
an operator asks for (the ``retried by`` reason on the record says which it is)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, step_action

HERE = "tests.integration.test_subworkflow_operator_retry_resolves_the_version_again"


def broken(event: dict[str, Any]) -> None:
    raise ValueError("v1 is broken")


CHILD_V1 = {"name": "kid", "steps": [{"id": "a", "type": "lambda", "function": f"{HERE}:broken"}]}
CHILD_V2 = {"name": "kid", "steps": [{"id": "a", "type": "noop"}]}
PARENT = {
    "name": "parent",
    "steps": [
        {"id": "call", "type": "subworkflow", "workflow": "kid"},
        {"id": "long", "type": "sleep", "seconds": 600},  # the run still runs
    ],
}


@pytest.mark.parametrize("store", ["memory_rt", "home_rt", "runtime"])
def test_an_operator_retry_after_the_fix_runs_the_fixed_version(
    store: str, request: pytest.FixtureRequest
) -> None:
    """The user pushed kid v2 (the fix, active) and retried the failed step ``call``:
    its new child ran kid v1 again and failed. It runs v2, the version active when the
    operator retried, and the step records v2."""
    rt: LocalRuntime = request.getfixturevalue(store)
    rt.push(CHILD_V1)
    rt.push(PARENT)
    run_id = rt.start_run("parent").run_id
    rt.pump(advance_time=False)
    record = rt.services.store.get_step(run_id, "call")
    assert record is not None and record.status is StepStatus.FAILED, record
    assert rt.services.store.get_run(run_id).status is RunStatus.RUNNING

    rt.push(CHILD_V2)  # the fix, active
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(5_000)
    step_action(rt.services, run_id, "call", StepAction.RETRY, Actor("alice", "kid fixed"))
    rt.pump(advance_time=False)

    child = rt.services.store.get_run(child_run_id(run_id, "call", 1))
    assert child.version == 2, (child.version, child.status, child.error)
    record = rt.services.store.get_step(run_id, "call")
    assert record is not None and record.status is StepStatus.SUCCEEDED, record.error
    assert record.loop == {"workflow": "kid", "version": 2}, record.loop
