"""A subworkflow step a restart took over (it succeeded in the run restarted) showed no
child runs on the console's step detail: its children were started, and named, by the
run it came from (``RUN.step.N`` under that run's id), and the detail looked under the
new run's. They are found by following the step's "reused from run" reason back, through
a restart of a restart too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.console_views import step_detail
from podium.service.restart import RestartRequest

ME = Actor("tester", "cli")
HERE = "tests.integration.test_console_taken_over_children"
BROKEN = [True]


def flaky(event: object) -> str:
    if BROKEN[0]:
        raise ValueError("not yet")
    return "ok"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    BROKEN[0] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_taken_over_subworkflow_step_links_the_runs_it_started(rt: LocalRuntime) -> None:
    rt.push({"name": "kid", "steps": [{"id": "a", "type": "noop"}]})
    rt.push(
        {
            "name": "parent",
            "steps": [
                {"id": "sub", "type": "subworkflow", "workflow": "kid"},
                {
                    "id": "after",
                    "type": "lambda",
                    "function": f"{HERE}:flaky",
                    "depends_on": ["sub"],
                },
            ],
        }
    )
    first = rt.start_run("parent").run_id
    rt.pump()
    assert rt.store.get_run(first).status is RunStatus.FAILED
    kid = child_run_id(first, "sub", 0)
    second = run_action(rt.services, first, RunAction.RESTART, ME, RestartRequest()).new_run
    rt.pump()
    assert rt.store.get_run(second).status is RunStatus.FAILED  # still broken
    third = run_action(rt.services, second, RunAction.RESTART, ME, RestartRequest()).new_run
    BROKEN[0] = False
    rt.pump()
    assert rt.store.get_run(third).status is RunStatus.SUCCEEDED
    for run_id in (second, third):
        taken = rt.store.get_step(run_id, "sub")
        assert taken is not None and taken.status is StepStatus.SUCCEEDED
        children = step_detail(rt.services, run_id, "sub")["children"]
        assert [c["run_id"] for c in children] == [kid], (run_id, children)
        assert children[0]["status"] == "SUCCEEDED"
