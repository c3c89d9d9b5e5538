"""``loop_inconsistent`` (sim/invariants.py): a foreach never has more iterations running
than its ``concurrency``, an ended iteration leaves no step open, and a loop step's
counters are its children's ends (fences included). Shown to bite: a launch past the
limit, a count under the wrong outcome, and an iteration's step left open."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from podium.adapters.memory_store import MemoryStateStore
from podium.core.engine.status import StepStatus
from podium.service.runtimes import foreach
from podium.sim.harness import World
from podium.sim.invariants import Verdict, check_world
from podium.sim.shapes import foreach_failures, nested_foreach


def _loop_problems(shape: Any = None) -> list[str]:
    world = World(0, shape or foreach_failures(), MemoryStateStore(), faulty=False)
    world.run()
    verdict = Verdict()
    check_world(world, verdict, "test")
    return [d for d in verdict.details if d.startswith("loop_inconsistent")]


def test_loops_that_keep_their_limits_violate_nothing() -> None:
    assert _loop_problems() == []
    assert _loop_problems(nested_foreach()) == []


def test_a_launch_past_the_concurrency_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = foreach.plan_foreach
    monkeypatch.setattr(
        foreach, "plan_foreach", lambda counts, concurrency, *a: real(counts, concurrency + 2, *a)
    )
    problems = _loop_problems()
    assert any("iterations at once (limit 5)" in p for p in problems), problems


def test_a_count_under_the_wrong_outcome_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = MemoryStateStore._count_opened

    def counted_ok(self: MemoryStateStore, run_id: str, step: str, index: int, _o: str) -> bool:
        return real(self, run_id, step, index, "ok")

    monkeypatch.setattr(MemoryStateStore, "_count_opened", counted_ok)
    problems = _loop_problems()
    assert any("counted {'ok': 50, 'failed': 0, 'stopped': 0}" in p for p in problems), problems


def test_an_iteration_step_left_open_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = MemoryStateStore.list_steps

    def list_steps(self: MemoryStateStore, run_id: str, *a: Any, **k: Any) -> Any:
        steps = real(self, run_id, *a, **k)
        if not run_id.endswith(".each.3"):
            return steps
        return [dataclasses.replace(s, status=StepStatus.RUNNING) for s in steps]

    world = World(0, foreach_failures(), MemoryStateStore(), faulty=False)
    world.run()
    monkeypatch.setattr(MemoryStateStore, "list_steps", list_steps)
    verdict = Verdict()
    check_world(world, verdict, "test")
    assert any("each.3 (SUCCEEDED) step work is RUNNING" in d for d in verdict.details), (
        verdict.details
    )
