"""The seeded simulation with operators acting at random moments (podium.sim.actions):
runs paused and resumed under the fault schedules end as they would without, with
nothing held, nothing run twice and no limit exceeded."""

from __future__ import annotations

from podium.sim.simulate import simulate
from tests.simulation.test_simulation import _explain

MEMORY_SEEDS = range(0, 1000)
MOTO_SEEDS = range(0, 20)


def test_pauses_and_resumes_at_random_moments_change_nothing_on_memory() -> None:
    report = simulate(MEMORY_SEEDS, "memory", actions=True)
    assert report.seeds == len(MEMORY_SEEDS)
    assert not report.failing_seeds, _explain(report)


def test_pauses_and_resumes_at_random_moments_change_nothing_on_moto() -> None:
    report = simulate(MOTO_SEEDS, "moto", actions=True)
    assert report.seeds == len(MOTO_SEEDS)
    assert not report.failing_seeds, _explain(report)
