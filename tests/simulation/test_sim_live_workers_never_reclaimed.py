"""The simulation's user functions take time, each process keeps its own in-memory
state, and a lease reclaimed from a live worker is judged (sim/harness.py
``World.take_time``, ``Proc.store``; sim/invariants.py ``ran_twice_at_once``; the
``slow_steps`` shape). Found by a mutation review of the simulation (r34d): simulated
functions took no time (no invocation ever spanned a lease), and every simulated
process shared one in-flight registry (``service/in_flight.running_here`` is keyed by
``ctx.store``, which every process shared), so the sweeper, a Lambda of its own on AWS,
saw another worker's attempt as running in its own process and never reclaimed it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulation.test_sim_reads_loop_outputs_and_judges_timer_leaks import (
    _bulk_violations,
)


def test_a_lease_shorter_than_a_workers_life_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Promised: a synchronous attempt's lease (16 minutes) outlives its worker (a Lambda
    stops at 15), so the sweeper reclaims only attempts whose worker is gone and a
    step's work never runs twice at once (service/in_flight.py, core/engine/plans.py
    ``lease_of``). Broken here: every synchronous lease is 1 second, so on AWS the
    sweeper reclaims live invocations and starts the next attempt beside them."""
    from podium.core.engine.plans import lease_of
    from podium.service import deadlines

    def one_second(now: int, **kwargs: Any) -> int:
        return lease_of(now, **{**kwargs, "worker_lease_ms": 1_000})

    monkeypatch.setattr(deadlines, "lease_of", one_second)
    assert _bulk_violations(), "a 1-second worker lease went unnoticed"


def test_each_process_keeps_its_own_in_flight_attempts() -> None:
    """The sweeper's process does not see a worker's attempt as in flight in its own:
    with the sweeper trusting only its own registry (as on AWS), a 1-second lease is
    reclaimed from the live worker in ``slow_steps`` (``ran_twice_at_once``), while the
    clean engine's 16-minute lease never is."""
    from podium.sim.harness import StoreFactory, World
    from podium.sim.invariants import Verdict, check_world
    from podium.sim.simulate import SHAPES

    world = World(0, SHAPES["slow_steps"], StoreFactory().make(), faulty=True)
    world.run()
    verdict = Verdict()
    check_world(world, verdict, "faulty")
    assert verdict.ok, verdict.details
    stores = {id(p.store) for p in world.claims if p.by is not None for p in [p.by]}
    assert len(stores) > 1, "every process claimed through one store proxy"
