"""A restart of a restart, from a step of one iteration of a loop the first restart took
over, was refused; now it restarts that iteration where it ran.

Run R's foreach succeeds and the step after it (``report``) fails. R is restarted from
incomplete as R-r1: the foreach is taken over (SUCCEEDED, with its output, "reused from
run R"), so R-r1 has no iteration runs of its own; ``report`` fails again. The operator
then wants iteration 2 redone: R cannot be restarted a second time (a run is restarted
once: "restart R-r1 instead"), and ``podium runs restart R-r1 --from loop/2/work`` was
refused with "iteration 2 of 'loop' never ran in run R-r1 (no iteration ran)", although
R-r1's loop step showed 4 succeeded iterations. The only restart left was ``--from
loop``, which reran every iteration in full.

The path check (service/step_paths.walk_iteration_path) and the restarted loop's
iterations (service/reuse.restarted_child, ``child_run_id(run.restart_of, ...)``) looked
for iteration runs only under the run restarted; a loop step taken over has its
iterations in the run it was taken over from (``taken_over_from(reason)``). Both now
follow it back (step_paths.iteration_run), through restarts of restarts, as the console
did for a subworkflow step (console_views._subworkflow_children); so does a loop step's
page of iterations (loop_views.iterations), which showed none for R-r1's loop."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action
from podium.service.loop_views import iterations

HERE = "tests.integration.test_restart_into_a_taken_over_loop"
_LOCK = threading.Lock()
CALLS: Counter[Any] = Counter()
BROKEN = {"report": True}
ME = Actor("alice")


def work(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    with _LOCK:
        CALLS["work", i] += 1
    return i * 2


def report(event: dict[str, Any]) -> str:
    with _LOCK:
        CALLS["report"] += 1
    if BROKEN["report"]:
        raise ValueError("report broken")
    return "ok"


DOC = {
    "name": "loop_then_report",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1, 2, 3]},
            "steps": [
                {
                    "id": "work",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"i": "${iteration.i}"},
                }
            ],
        },
        {
            "id": "report",
            "type": "lambda",
            "function": f"{HERE}:report",
            "depends_on": ["loop"],
        },
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN["report"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_restart_of_a_restart_reaches_into_the_loop_it_took_over(rt: LocalRuntime) -> None:
    rt.push(DOC)
    run = rt.start_run("loop_then_report")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED  # report failed
    first = run_action(rt.services, run.run_id, RunAction.RESTART, ME)
    assert first.new_run is not None
    rt.pump()
    r1 = rt.describe(first.new_run)
    assert r1.run.status is RunStatus.FAILED  # report is still broken
    loop = next(s for s in r1.steps if s.step == "loop")
    assert loop.status.value == "SUCCEEDED" and loop.output["succeeded"] == 4

    BROKEN["report"] = False
    CALLS.clear()
    # Before the fix: DefinitionError "iteration 2 of 'loop' never ran in run ...-r1
    # (no iteration ran); name one that ran".
    again = run_action(
        rt.services, first.new_run, RunAction.RESTART, ME, RestartRequest("loop/2/work")
    )
    assert again.new_run is not None
    rt.pump()
    r2 = rt.describe(again.new_run)
    assert r2.run.status is RunStatus.SUCCEEDED
    # Iteration 2 reruns from work; the others are taken over (they succeeded in R).
    assert dict(CALLS) == {("work", 2): 1, "report": 1}
    loop = next(s for s in r2.steps if s.step == "loop")
    assert loop.output["outputs"]["work"] == [0, 2, 4, 6]


def _restarted_once(rt: LocalRuntime) -> tuple[str, str]:
    """(R, R-r1): R-r1 took R's loop over, and failed at ``report`` again."""
    rt.push(DOC)
    run = rt.start_run("loop_then_report")
    rt.pump()
    first = run_action(rt.services, run.run_id, RunAction.RESTART, ME)
    assert first.new_run is not None
    rt.pump()
    assert rt.describe(first.new_run).run.status is RunStatus.FAILED
    return run.run_id, first.new_run


def test_a_taken_over_loop_lists_the_iterations_of_the_run_it_ran_in(rt: LocalRuntime) -> None:
    """The console's grid (and ``podium runs show --step``) of R-r1's loop: R's
    iterations, with their counts. Before: none (R-r1 launched none)."""
    old, new = _restarted_once(rt)
    page = iterations(rt.services, new, "loop")
    assert page is not None
    assert page["counts"] is not None and page["counts"]["succeeded"] == 4
    assert [i["run_id"] for i in page["iterations"]] == [
        child_run_id(old, "loop", i) for i in range(4)
    ]


def test_an_iteration_a_taken_over_loop_never_ran_is_named_in_the_run_it_ran_in(
    rt: LocalRuntime,
) -> None:
    old, new = _restarted_once(rt)
    with pytest.raises(DefinitionError) as refused:
        run_action(rt.services, new, RunAction.RESTART, ME, RestartRequest("loop/7/work"))
    message = str(refused.value)
    assert f"never ran in run {old} (iterations 0 to 3 ran;" in message, message
    assert f"run {new} took 'loop' over from it in a restart" in message, message
