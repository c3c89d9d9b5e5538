"""A step action on a step of a waited-for subworkflow's ended run, once the parent
was restarted: the refusal's hint said "run R was restarted as R-r1: act on step
call/load there". Step actions take no such path (STEP or LOOP/INDEX/STEP only; a
subworkflow's step lives in its child run): following the hint was refused as a
malformed path. The hint now names only the restart that works (``podium runs restart
R-r1 --from call/load``)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import (
    ActionRefused,
    BadStepPath,
    RunAction,
    StepAction,
)
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action

HERE = "tests.integration.test_step_action_hint_in_a_subworkflow"
_LOCK = threading.Lock()
CALLS: Counter[str] = Counter()
ME = Actor("alice")


def load(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS["load"] += 1
    raise ValueError("load broken")


ETL = {
    "name": "hint_hint_etl",
    "steps": [
        {"id": "extract", "type": "noop"},
        {
            "id": "load",
            "type": "lambda",
            "function": f"{HERE}:load",
            "depends_on": ["extract"],
        },
    ],
}
CALLER = {
    "name": "hint_hint_caller",
    "steps": [{"id": "call", "type": "subworkflow", "workflow": "hint_hint_etl"}],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        runtime.push(ETL)
        runtime.push(CALLER)
        yield runtime


def test_the_hint_on_an_old_childs_step_names_an_action_that_works(rt: LocalRuntime) -> None:
    old = rt.start_run("hint_hint_caller").run_id
    rt.pump()
    assert rt.describe(old).run.status is RunStatus.FAILED
    first = run_action(rt.services, old, RunAction.RESTART, ME).new_run
    assert first is not None
    rt.pump()
    assert rt.describe(first).run.status is RunStatus.FAILED
    with pytest.raises(ActionRefused) as refused:
        step_action(rt.services, child_run_id(old, "call", 0), "load", StepAction.RETRY, ME)
    message = str(refused.value)
    assert f"podium runs restart {first} --from call/load" in message, message
    told = re.search(r"act on step (\S+) there", message)
    if told is None:
        return  # no step action suggested: nothing to follow
    # Following the hint: the path it names must be one a step action takes (refused
    # for the run's state, if at all, not as a malformed path).
    # Before the fix: BadStepPath "write STEP, or LOOP_STEP/INDEX/STEP ..." for call/load.
    try:
        step_action(rt.services, first, told.group(1), StepAction.RETRY, ME)
    except BadStepPath as bad:
        pytest.fail(f"the hint names a step path step actions refuse: {bad}")
    except ActionRefused:
        pass  # refused for its state: the path itself was understood
