"""The simulation judges concurrency keys and ``max_parallel_steps`` wherever a run is:
in loop iterations, subworkflow runs and restarts (sim/harness.py ``World.created``,
``_running_by_key``, ``own_keys``; the ``keys_in_children`` shape). Found by a mutation
review of the simulation (r34d): World.setup read only top-level steps, and the
running-steps count and the end's ``permit_leak`` looked only at the workload's top
runs."""

from __future__ import annotations

import pytest

from podium.sim.shapes import Expected, RunSpec, Shape
from tests.simulation.test_sim_reads_loop_outputs_and_judges_timer_leaks import (
    _bulk_violations,
    _fault_free,
)


def test_a_loop_body_step_over_its_concurrency_key_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promised: ``concurrency: {key, limit}`` caps the steps running at once under the
    key, wherever the step is (docs/workflow-language.md, "Run strategies and
    concurrency"); the simulation's ``limit_exceeded`` checks "a key's permits ... or
    the steps RUNNING at once ... under a concurrency key", after every write. Broken
    here: no step claims a permit (``needs_of`` is empty), so the four iterations of a
    foreach each sleep 30 s in a step whose key has limit 1, all four at once."""
    from podium.service import execute

    key = {"key": "sim_body_key", "limit": 1}
    wf = {
        "name": "sim_body_keyed",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": [0, 1, 2, 3]},
                "concurrency": 4,
                "steps": [{"id": "hold", "type": "sleep", "seconds": 30, "concurrency": key}],
            }
        ],
    }
    shape = Shape(
        "body_key",
        (wf,),
        (RunSpec("sim_body_keyed"),),
        (Expected("SUCCEEDED", {"each": "SUCCEEDED"}),),
    )
    assert not _fault_free(shape)  # the engine as it is: one sleep at a time
    monkeypatch.setattr(execute, "needs_of", lambda ctx, run, step: ())
    assert "limit_exceeded" in _fault_free(shape), "4 steps ran at once under a limit of 1"


def test_keys_in_iterations_and_subworkflow_runs_are_judged_in_bulk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same break caught by the bulk seeds: ``keys_in_children`` holds a key of
    limit 2 in a foreach's 4 iterations and in a subworkflow's run."""
    from podium.service import execute

    monkeypatch.setattr(execute, "needs_of", lambda ctx, run, step: ())
    assert "limit_exceeded" in _bulk_violations(("keys_in_children",))


def test_a_restarted_runs_own_key_is_judged() -> None:
    """``max_parallel_steps`` holds in a restart's run too (its own ``run:<id>`` key):
    the runs an operator's restart creates are among the runs the limits and the end's
    ``permit_leak`` judge (seed 10 of ``max_parallel`` with operators acting restarts
    its run)."""
    from podium.core.engine.retention import own_permit_key
    from podium.sim.actions import ActingWorld
    from podium.sim.harness import StoreFactory
    from podium.sim.simulate import SHAPES

    world = ActingWorld(10, SHAPES["max_parallel"], StoreFactory().make(), faulty=True)
    world.run()
    restarts = world.inner_store.get_runs(sorted(world.restarted))
    assert restarts, "the seed restarts no run any more: pick another"
    judged = world.own_keys()
    for run_id in restarts:
        assert judged.get(own_permit_key(run_id)) == 2, run_id
