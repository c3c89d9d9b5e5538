"""The simulation drives backfills and breakpoints (sim/shapes.py ``backfill``,
``breakpoints``; sim/invariants.py ``backfill_broken``, ``breakpoint_ignored``). Found by
a mutation review of the simulation (r34d): no shape started a backfill, set a
breakpoint or resumed a step held at one, so a regression there was out of its reach."""

from __future__ import annotations

from typing import Any

import pytest

from podium.sim.harness import factory_for
from podium.sim.simulate import Simulator, resolve_mix
from tests.simulation.test_sim_reads_loop_outputs_and_judges_timer_leaks import (
    _bulk_violations,
)


@pytest.mark.parametrize(
    ("module", "name", "broken"),
    [
        # Every copy of a backfill's driver message ticks (copies multiply without
        # bound: the bug 45a40de fixed).
        ("podium.service.backfill", "is_live_driver", lambda seen, tick: True),
        # A step with a breakpoint starts without pausing.
        ("podium.service.execute", "stops_at_breakpoint", lambda ctx, run, msg: False),
    ],
    ids=["backfill_driver_copies_multiply", "breakpoints_ignored"],
)
def test_features_the_simulation_never_drives_are_caught(
    monkeypatch: pytest.MonkeyPatch, module: str, name: str, broken: Any
) -> None:
    """Promised (docs/operations.md, "Simulation"): the invariants hold under faults for
    the engine's workflows. Broken here: a backfill's duplicated driver messages all
    tick (each copy starts its own chain), or breakpoints never stop a step."""
    import importlib

    monkeypatch.setattr(importlib.import_module(module), name, broken)
    assert _bulk_violations(resolve_mix("all")), f"{module}.{name} broken went unnoticed"


@pytest.mark.parametrize("shape", ["backfill", "breakpoints"])
def test_the_clean_engine_passes_the_backfill_and_breakpoint_shapes(shape: str) -> None:
    factory = factory_for("memory")
    with factory.session():
        for actions in (False, True):
            sim = Simulator(factory, (shape,), actions=actions)
            for seed in range(3):
                assert sim.run_seed(seed).verdict.details == [], (shape, seed, actions)


def test_a_backfill_past_its_max_active_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """``max_active`` caps the backfill's runs unended at once (service/backfill.py).
    Broken here: the request starts every run at once, as without ``max_active``."""
    from podium.service import backfill

    real = backfill.execute

    def all_at_once(ctx: Any, planned: Any, **kwargs: Any) -> Any:
        return real(ctx, planned, **{**kwargs, "max_active": None})

    monkeypatch.setattr(backfill, "execute", all_at_once)
    assert "backfill_broken" in _bulk_violations(("backfill",))


@pytest.mark.xfail(
    strict=True,
    reason="open: a backfill driver whose request died before its"
    " first message stays on the trigger's state (bd:<driver>) for good",
)
def test_a_backfill_request_cut_short_leaves_no_driver_on_the_trigger_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/architecture.md (trigger state ``bd:<driver>``): each live backfill driver's
    tick, "removed when the driver ends". The request's process writes its driver's
    first tick (``start_backfill_driver``) and dies before it sends the driver's first
    message (here: killed at that send; found under faults by the ``backfill`` shape, a
    Lambda killed at its 15 minutes there). Its client asks again two minutes later,
    when the two runs the first request started have ended: the plan starts two more
    and leaves the last two to a driver of another id (``driver_id`` hashes the runs
    left), which runs and ends. The first driver's tick stays on the trigger's state
    for good: no message of it exists to end it. (``backfill_broken`` leaves a driver
    that never sent a message out, so the bulk seeds stay green until it is fixed.)"""
    from podium.sim import harness
    from podium.sim.faults import SimCrash
    from podium.sim.simulate import SHAPES

    real = harness.SimTimers.schedule
    killed: list[str] = []

    def dies_at_the_first_driver(self: Any, message: Any, due_ms: int, **kw: Any) -> None:
        if message.get("t") == "backfill" and not killed:
            killed.append(str(message.get("id")))
            raise SimCrash("killed before the driver's first message")
        real(self, message, due_ms, **kw)

    monkeypatch.setattr(harness.SimTimers, "schedule", dies_at_the_first_driver)
    monkeypatch.setattr(harness, "API_RETRY_MS", 120_000)
    world = harness.World(0, SHAPES["backfill"], harness.StoreFactory().make(), faulty=False)
    world.run()
    assert killed
    runs = world.inner_store.list_runs("sim_backfill", 100)
    assert len(runs) == 6 and all(r.status.value == "SUCCEEDED" for r in runs)
    states = world.inner_store.trigger_states().states("sim_backfill")
    assert all(not s.backfill_drivers for s in states.values()), states
