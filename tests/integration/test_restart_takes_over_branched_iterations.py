"""A restart from incomplete reran work in foreach iterations that had succeeded, when
they had taken an if/else branch; now such an iteration reruns nothing, as
docs/operations.md says of every succeeded iteration ("its steps and outputs are taken
over").

The body below is DESIGN.md's if/else that merges again (``one_success``): ``hi`` and
``lo`` are conditional edges out of ``work``, ``final`` joins them. In a succeeded
iteration one of the two was SKIPPED by its condition, and ``reused_steps``
(core/engine/actions.py) took over only steps whose predecessors were *all* taken over:
the skipped branch was not (it had not succeeded), so ``final`` was not either, and its
function ran a second time in every iteration that had already succeeded. Now a step
the engine skipped by its join's rule (``decide.skipped_as_decided``) no longer keeps
the steps below it from being taken over; it is not taken over itself, and the new run
decides its skip again from the taken-over outputs."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.load import validate_definition
from podium.core.engine.actions import RunAction, reuse_basis, reused_steps
from podium.core.engine.decide import NO_EDGE_TAKEN, RUN_FAILING, UPSTREAM_FAILED
from podium.core.engine.graph import Graph
from podium.core.engine.records import StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

HERE = "tests.integration.test_restart_takes_over_branched_iterations"
_LOCK = threading.Lock()
CALLS: Counter[tuple[str, int]] = Counter()
BROKEN = {"on": True}


def work(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    with _LOCK:
        CALLS["work", i] += 1
    if BROKEN["on"] and i == 3:
        raise ValueError("bad partition 3")
    return i


def final(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    with _LOCK:
        CALLS["final", i] += 1
    return i * 10


DOC = {
    "name": "branchy_loop",
    "steps": [
        {
            "id": "loop",
            "type": "foreach",
            "over": {"i": [0, 1, 2, 3]},
            "on_failure": "continue",
            "steps": [
                {
                    "id": "work",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"i": "${iteration.i}"},
                },
                {
                    "id": "hi",
                    "type": "noop",
                    "depends_on": [{"step": "work", "when": "steps.work.output >= 2"}],
                },
                {
                    "id": "lo",
                    "type": "noop",
                    "depends_on": [{"step": "work", "when": "steps.work.output < 2"}],
                },
                {
                    "id": "final",
                    "type": "lambda",
                    "function": f"{HERE}:final",
                    "payload": {"i": "${iteration.i}"},
                    "depends_on": ["hi", "lo"],  # join one_success: the branches merge
                },
            ],
        }
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    CALLS.clear()
    BROKEN["on"] = True
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_restart_reruns_nothing_in_an_iteration_that_succeeded_through_a_branch(
    rt: LocalRuntime,
) -> None:
    rt.push(DOC)
    run = rt.start_run("branchy_loop")
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.FAILED  # iteration 3 failed
    assert CALLS["final", 0] == CALLS["final", 1] == CALLS["final", 2] == 1
    BROKEN["on"] = False  # the fix
    CALLS.clear()
    result = run_action(rt.services, run.run_id, RunAction.RESTART, Actor("alice"))
    assert result.new_run is not None
    rt.pump()
    view = rt.describe(result.new_run)
    assert view.run.status is RunStatus.SUCCEEDED
    loop = next(s for s in view.steps if s.step == "loop")
    assert loop.output["outputs"]["final"] == [0, 10, 20, 30]  # index-aligned
    # Only the iteration that failed runs again. Before the fix: final ran again in
    # iterations 0, 1 and 2 too (their skipped branch kept it from being taken over).
    assert dict(CALLS) == {("work", 3): 1, ("final", 3): 1}


def test_only_a_skip_decided_by_a_join_lets_the_steps_below_be_taken_over() -> None:
    """The pure rule (core/engine/actions.reused_steps): the merge below a skipped
    branch is taken over when the branch was skipped by its join's rule, not when it was
    skipped for a failure or by an operator; the skipped branch itself never is."""
    body = [
        {"id": "work", "type": "noop"},
        {"id": "hi", "type": "noop", "depends_on": [{"step": "work", "when": "true"}]},
        {"id": "lo", "type": "noop", "depends_on": [{"step": "work", "when": "false"}]},
        {"id": "final", "type": "noop", "depends_on": ["hi", "lo"]},
    ]
    graph = Graph.of(validate_definition({"name": "branchy", "steps": body}))

    def reused(lo_reason: str, rerun_from: str | None = None) -> frozenset[str]:
        succeeded, decided = reuse_basis(
            [
                StepRecord("r", "work", StepStatus.SUCCEEDED),
                StepRecord("r", "hi", StepStatus.SUCCEEDED),
                StepRecord("r", "lo", StepStatus.SKIPPED, reason=lo_reason),
                StepRecord("r", "final", StepStatus.SUCCEEDED),
            ]
        )
        return reused_steps(graph, succeeded, rerun_from, decided=decided)

    assert reused(NO_EDGE_TAKEN) == {"work", "hi", "final"}
    for blocking in (UPSTREAM_FAILED, RUN_FAILING, "skipped by alice: not today"):
        assert reused(blocking) == {"work", "hi"}, blocking
    # A restart from a step reruns it and what is below it, a skipped branch included.
    assert reused(NO_EDGE_TAKEN, "work") == frozenset()
