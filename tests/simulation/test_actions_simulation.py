"""The seeded simulation with operators acting at random moments (podium.sim.actions):
runs paused and resumed, and failed steps retried in place, under the fault schedules
end as they would without, with nothing held, nothing run twice and no limit exceeded;
runs stopped end, with their children, settled and holding nothing."""

from __future__ import annotations

import pytest

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


def test_a_paused_child_its_ended_parent_missed_is_stopped() -> None:
    """Seed 347 of foreach_fail_fast with actions (found after the merges): an iteration
    created paused just before its parent's fail_fast ended the run, and not yet counted
    as launched, stayed PAUSED forever. The sweeper now stops a paused child whose parent
    run has ended."""
    from podium.sim.simulate import Simulator, factory_for

    factory = factory_for("memory")
    with factory.session():
        result = Simulator(factory, ("foreach_fail_fast",), actions=True).run_seed(347)
    assert result.verdict.ok, "\n".join(result.verdict.details)


def test_the_simulate_command_takes_actions(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from podium.sim.__main__ import main

    assert main(["--seeds", "0:5", "--actions", "--json", "--shapes", "fail_sibling"]) == 0
    assert json.loads(capsys.readouterr().out)["seeds"] == 5
