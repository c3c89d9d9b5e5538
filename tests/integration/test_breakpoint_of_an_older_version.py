"""A breakpoint belongs to a workflow and its step whatever the version, and holds the
runs already going (service/breakpoints.py). Set on a step that a newer active version
no longer has (or in a loop it no longer has), it still held the older version's runs,
but `podium breakpoints list` did not show it and `clear` refused the step ("has no
step"): the held run could only be let through step by step. Listed and cleared now
from every version's steps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.breakpoints import clear_breakpoints, list_breakpoints, set_breakpoint
from podium.service.pausing import BREAKPOINT


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_breakpoint_on_a_step_the_active_version_dropped_is_listed_and_cleared(
    rt: LocalRuntime,
) -> None:
    rt.push({"name": "wf", "steps": [{"id": "x", "type": "noop"}]})
    set_breakpoint(rt.services, "wf", "x")
    run_id = rt.start_run("wf").run_id
    rt.pump()
    held = rt.store.get_step(run_id, "x")
    assert held is not None and held.status is StepStatus.PAUSED and held.reason == BREAKPOINT
    rt.push({"name": "wf", "steps": [{"id": "y", "type": "noop"}]})  # version 2, active
    assert list_breakpoints(rt.services, "wf") == ["x"]
    change = clear_breakpoints(rt.services, "wf", "x")
    assert change.resumed == [f"{run_id}/x"]
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_breakpoint_in_a_loop_the_active_version_dropped_is_cleared_with_the_rest(
    rt: LocalRuntime,
) -> None:
    body = [{"id": "work", "type": "noop"}]
    rt.push(
        {
            "name": "lp",
            "steps": [{"id": "per", "type": "foreach", "over": {"i": [1]}, "steps": body}],
        }
    )
    set_breakpoint(rt.services, "lp", "per/work")
    run_id = rt.start_run("lp").run_id
    rt.pump()
    iteration = child_run_id(run_id, "per", 0)
    held = rt.store.get_step(iteration, "work")
    assert held is not None and held.status is StepStatus.PAUSED
    rt.push({"name": "lp", "steps": [{"id": "other", "type": "noop"}]})
    assert list_breakpoints(rt.services, "lp") == ["per/work"]
    change = clear_breakpoints(rt.services, "lp")  # every breakpoint
    assert change.resumed == [f"{iteration}/work"]
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
