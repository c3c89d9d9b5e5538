"""``limit_exceeded`` read the permit table only, so a claim that skipped the permits was
never caught.

``World.check_limits`` (sim/harness.py) checked after every store write that no key, and
no run's ``run:<id>`` key (``max_parallel_steps``), had more permits *held* than its
limit. It never counted the steps that were RUNNING. An engine whose claims stopped
taking permits (here: ``execute`` told no step needs one) ran 3, 4, 5 steps of a
``max_parallel_steps: 2`` run at once in about one faulty world in ten (22 of seeds
0:200 of ``max_parallel``), and the simulation reported nothing: the permit table stayed
empty, so no limit was exceeded and no permit leaked. ``check_limits`` now also counts,
per run, the steps RUNNING (each needs a ``run:`` permit) and, per concurrency key, the
steps RUNNING that need it, from the store's steps and the definitions (not from the
engine's own ``needs_of``), against the same limits.
"""

from __future__ import annotations

import pytest

from podium.sim.simulate import run_case, simulate

# Seeds of max_parallel in which the mutated engine ran more than 2 steps at once (the
# schedules moved when each simulated process got its own in-memory state: 4, 5, 18
# before).
SEEDS = (17, 23, 25)


def test_steps_running_past_max_parallel_steps_without_permits_are_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An engine that ignored max_parallel_steps (a user's ``max_parallel_steps: 2`` run
    ran five steps at once) passed the simulation. It fails it with ``limit_exceeded``
    (steps running at once over the limit)."""
    import podium.service.execute as execute

    monkeypatch.setattr(execute, "needs_of", lambda ctx, run, step: ())
    found = {seed: run_case("max_parallel", seed).verdict.violations for seed in SEEDS}
    caught = [seed for seed, violations in found.items() if "limit_exceeded" in violations]
    assert caught, f"claims that skip max_parallel_steps went unseen in seeds {SEEDS}: {found}"


@pytest.mark.parametrize("shape", ["max_parallel", "key_limit"])
def test_the_engine_keeps_its_limits_by_the_running_steps_count(shape: str) -> None:
    """The count of running steps is no false alarm: the engine as it is keeps it within
    the limits (a few hundred seeds of these shapes and of the strategy shapes were run
    clean when the count came in; a few here)."""
    report = simulate(range(40), mix=(shape,))
    assert "limit_exceeded" not in report.violations, [
        r.verdict.details for r in report.results if "limit_exceeded" in r.verdict.violations
    ]
