"""``podium break set`` checked the step against the active version only
(service/breakpoints.py ``_target``): a run of an older version, still going, could not
be given a breakpoint on a step only its version has, though a breakpoint belongs to a
workflow and its step "whatever the version" and holds the runs already going (and
``clear`` took such a step). A step any stored version has is taken now; one no version
has is refused saying so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.breakpoints import clear_breakpoints, set_breakpoint
from podium.service.pausing import BREAKPOINT

V1: dict[str, Any] = {
    "name": "wf",
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "old_only", "type": "noop", "depends_on": ["a"]},
    ],
}
V2: dict[str, Any] = {
    "name": "wf",
    "steps": [{"id": "a", "type": "noop"}, {"id": "new_only", "type": "noop"}],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _held(rt: LocalRuntime, run_id: str, step: str) -> bool:
    record = rt.store.get_step(run_id, step)
    return record is not None and record.status is StepStatus.PAUSED and record.reason == BREAKPOINT


def test_a_breakpoint_on_a_step_only_a_running_older_version_has_is_set_and_holds(
    rt: LocalRuntime,
) -> None:
    """A version 1 run is held at ``a``; version 2, now active, has no ``old_only``. The
    operator's ``podium break set wf old_only`` was refused ("'wf' has no step
    'old_only'"): the run could not be stopped before that step."""
    rt.push(V1)
    set_breakpoint(rt.services, "wf", "a")
    run_id = rt.start_run("wf").run_id
    rt.pump()
    assert _held(rt, run_id, "a")
    rt.push(V2)

    change = set_breakpoint(rt.services, "wf", "old_only")
    assert change.steps == ["old_only"]
    clear_breakpoints(rt.services, "wf", "a")
    rt.pump()
    assert _held(rt, run_id, "old_only")
    clear_breakpoints(rt.services, "wf", "old_only")
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_step_no_version_has_is_refused_saying_so(rt: LocalRuntime) -> None:
    rt.push(V1)
    rt.push(V2)
    with pytest.raises(DefinitionError) as refused:
        set_breakpoint(rt.services, "wf", "nowhere")
    said = str(refused.value)
    assert "'wf' has no step 'nowhere' in any of its versions" in said, said
    assert "one of: a, new_only" in said, said  # the active version's steps
