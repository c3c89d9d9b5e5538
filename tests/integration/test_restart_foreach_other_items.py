"""A restart from incomplete with other params runs a foreach iteration whose item changed
in full: ``over`` is rendered again from the new params, so index 0 may be another item,
and the old iteration's output (computed for its item) is not taken over. Before, every
foreach iteration restarted from the old run's child of the same index: with ``-p
items=[c, d]`` iteration 0 ran for "c" and was handed the old output for "a" ("A")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action

HERE = "tests.integration.test_restart_foreach_other_items"


CALLS: list[str] = []


def work(event: dict[str, Any]) -> str:
    x = str(event["payload"]["x"])
    CALLS.append(x)
    if x == "bad":
        raise ValueError("bad item")
    return x.upper()


DOC = {
    "name": "fe_params",
    "params": {"items": {"type": "list", "default": ["a", "bad"]}},
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"x": "${params.items}"},
            "on_failure": "continue",
            "steps": [
                {
                    "id": "work",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"x": "${iteration.x}"},
                }
            ],
        }
    ],
}


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_restart_with_other_params_does_not_reuse_an_iteration_of_another_item(
    mem: LocalRuntime,
) -> None:
    mem.push(DOC)
    run = mem.start_run("fe_params")
    mem.pump()
    assert mem.describe(run.run_id).run.status is RunStatus.FAILED  # "bad" failed
    result = run_action(
        mem.services,
        run.run_id,
        RunAction.RESTART,
        Actor("alice"),
        RestartRequest(params={"items": ["c", "d"]}),
    )
    assert result.new_run is not None
    mem.pump()
    view = mem.describe(result.new_run)
    assert view.run.status is RunStatus.SUCCEEDED
    first = mem.services.store.get_run(child_run_id(result.new_run, "loop", 0))
    assert first.iteration == {"index": 0, "x": "c"}  # the iteration is c's ...
    loop = next(s for s in view.steps if s.step == "loop")
    # ... and its output must be c's, not the old iteration 0's ("A").
    assert loop.output["outputs"]["work"] == ["C", "D"]


def test_a_restart_with_the_same_items_still_takes_over_what_succeeded(
    mem: LocalRuntime,
) -> None:
    mem.push(DOC)
    run = mem.start_run("fe_params")
    mem.pump()
    CALLS.clear()
    result = run_action(mem.services, run.run_id, RunAction.RESTART, Actor("alice"))
    assert result.new_run is not None
    mem.pump()
    assert CALLS == ["bad"]  # "a" succeeded: taken over, not run again
    first = mem.services.store.get_run(child_run_id(result.new_run, "loop", 0))
    assert first.restart_of == child_run_id(run.run_id, "loop", 0)
