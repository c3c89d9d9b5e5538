"""The seeded simulation in bulk: the real service code under random fault schedules
(podium.sim; docs/operations.md, "Simulation"). One test per store runs a fixed block of
seeds and asserts that no invariant is violated. A seed that fails once is kept in
test_regressions.py forever."""

from __future__ import annotations

from podium.sim.simulate import DEFAULT_MIX, Report, simulate

MEMORY_SEEDS = range(0, 1000)
MOTO_SEEDS = range(0, 50)

# The shapes run in bulk: every shape. One with a known open bug leaves these mixes
# until the fix lands (its failing seeds go to test_regressions.py as strict xfail).
BULK_MIX: tuple[str, ...] = DEFAULT_MIX
MOTO_MIX: tuple[str, ...] = DEFAULT_MIX


def _explain(report: Report) -> str:
    lines = [str(report.as_json())]
    for result in report.results[:10]:
        lines.append(
            f"seed {result.seed} ({result.shape}); replay: scripts/simulate"
            f" --explain {result.seed} --shapes {result.shape}"
        )
        lines.extend(f"  {d}" for d in result.verdict.details[:5])
    return "\n".join(lines)


def test_memory_store_seeds_violate_nothing() -> None:
    report = simulate(MEMORY_SEEDS, "memory", BULK_MIX)
    assert report.seeds == len(MEMORY_SEEDS)
    assert not report.failing_seeds, _explain(report)


def test_dynamodb_on_moto_seeds_violate_nothing() -> None:
    report = simulate(MOTO_SEEDS, "moto", MOTO_MIX)
    assert report.seeds == len(MOTO_SEEDS)
    assert not report.failing_seeds, _explain(report)
