"""The simulation reads a foreach's output, and judges one-time schedules left behind
(sim/shapes.py ``foreach_failures``, sim/invariants.py ``timer_leak``). Mutation tests:
each breaks the engine on purpose (monkeypatched here; functions/ is left alone) in a
way that breaks a promise the simulation exists to check (docs/operations.md,
"Simulation"), runs the simulation's own seeds in bulk (or a small hand-made workload),
and expects a violation. Found by a mutation review of the simulation (r34d): before,
no shape read a foreach's output, and ``timer_leak`` could never fire.

The helpers here are shared by the other mutation tests of that review
(test_sim_limits_in_child_runs.py, test_sim_retry_budgets_and_policies.py,
test_sim_backfills_and_breakpoints.py, test_sim_live_workers_never_reclaimed.py)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.sim.harness import StoreFactory, World
from podium.sim.invariants import Verdict, check_world
from podium.sim.shapes import Shape
from podium.sim.simulate import DEFAULT_MIX, resolve_mix, simulate

BULK = range(0, 150)  # about three seeds of every shape of the default mix


def _bulk_violations(mix: tuple[str, ...] = DEFAULT_MIX) -> dict[str, int]:
    report = simulate(BULK, "memory", mix)
    return dict(report.violations)


def _fault_free(shape: Shape) -> dict[str, int]:
    world = World(0, shape, StoreFactory().make(), faulty=False)
    world.run()
    verdict = Verdict()
    check_world(world, verdict, "fault-free")
    return dict(verdict.violations)


def test_a_foreach_output_lost_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Promised: a foreach step's output holds its iterations' outputs, index-aligned
    (docs/workflow-language.md, "foreach"; service/loops.child_outputs). Broken here:
    every iteration's output reads as null. Caught: ``foreach_failures``' step after
    the loop is invoked with the loop's output (``payload_differs``); before, no shape
    read a foreach's output and statuses do not change."""
    from podium.service import loops

    def all_null(ctx: Any, run: Any, step: str, total: int, inner: list[str]) -> Any:
        return {sid: [None] * total for sid in inner}

    monkeypatch.setattr(loops, "child_outputs", all_null)
    assert _bulk_violations(), "a foreach whose outputs are all null went unnoticed"


def test_timers_never_withdrawn_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Promised: nothing stays held; a long wait that ended another way (a stopped sleep,
    a callback step that got its result, a step that ended before its deadline) has its
    one-time schedule withdrawn (adapters/timers.SchedulerTimers.cancel). Broken here:
    no timer is ever withdrawn (``Services.cancel_at`` does nothing), so each leaves
    its EventBridge schedule for up to its due time, hours after its run ended.
    Before, ``timer_leak`` could never fire: the settling runs until the clock is past
    every schedule's due time, and a schedule that fires deletes itself, so by "the end"
    no schedule was left whether or not it was withdrawn. Caught now: without faults, a
    withdrawable schedule that fires after its wait ended is a ``timer_leak``."""
    from podium.service.context import Services

    monkeypatch.setattr(Services, "cancel_at", lambda self, *_a, **_k: None)
    assert _bulk_violations(resolve_mix("all")), "timers never withdrawn went unnoticed"


def test_the_clean_engine_withdraws_every_timer_it_should() -> None:
    """Control: without the mutation, no shape's fault-free world (the callback shapes'
    too, whose waits end before their deadlines) leaves a withdrawable schedule to
    fire after its wait ended."""
    from podium.sim.simulate import SHAPES

    for name in resolve_mix("all"):
        assert "timer_leak" not in _fault_free(SHAPES[name]), name
