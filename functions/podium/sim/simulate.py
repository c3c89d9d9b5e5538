"""Run seeds: a fault-free baseline per shape, then the faulty world of each seed."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from podium.sim.harness import RunOutcome, StoreFactory, World, factory_for
from podium.sim.invariants import Verdict, check_world, compare
from podium.sim.shapes import BUILDERS, CALLBACK_BUILDERS, SHAPES, Shape

# The shapes CI runs in bulk: every shape whose known bugs are fixed.
DEFAULT_MIX: tuple[str, ...] = tuple(name for name in BUILDERS if name in SHAPES)
# The callback shapes (sim/callbacks.py): a set of their own, ``--shapes callbacks``.
CALLBACK_MIX: tuple[str, ...] = tuple(name for name in CALLBACK_BUILDERS if name in SHAPES)
# Named sets ``--shapes`` takes besides shape names.
SHAPE_SETS: dict[str, tuple[str, ...]] = {
    "default": DEFAULT_MIX,
    "callbacks": CALLBACK_MIX,
    "all": DEFAULT_MIX + CALLBACK_MIX,
}


def resolve_mix(names: str | tuple[str, ...]) -> tuple[str, ...]:
    """Shape names and named sets (comma separated), each shape once, in order."""
    parts = names.split(",") if isinstance(names, str) else list(names)
    out: list[str] = []
    for part in (p.strip() for p in parts):
        for name in SHAPE_SETS.get(part, (part,) if part else ()):
            if name not in out:
                out.append(name)
    return tuple(out)


@dataclass
class SeedResult:
    seed: int
    shape: str
    verdict: Verdict
    trace: list[str] | None = None
    # The callback paths the faulty world took (sim/callbacks.py: CallbackSender.stats).
    stats: Counter[str] = field(default_factory=Counter)


@dataclass
class Report:
    seeds: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    failing_seeds: list[int] = field(default_factory=list)
    results: list[SeedResult] = field(default_factory=list)
    seconds: float = 0.0
    stats: Counter[str] = field(default_factory=Counter)  # summed over the seeds

    def as_json(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "violations": dict(sorted(self.violations.items())),
            "failing_seeds": self.failing_seeds,
        }


def shape_for(seed: int, mix: tuple[str, ...]) -> Shape:
    return SHAPES[mix[seed % len(mix)]]


class Simulator:
    def __init__(
        self,
        factory: StoreFactory,
        mix: tuple[str, ...] = DEFAULT_MIX,
        intensity: float = 1.0,
        *,
        actions: bool = False,
    ) -> None:
        unknown = [m for m in mix if m not in SHAPES]
        if unknown:
            raise ValueError(f"unknown shapes {unknown}; known: {sorted(SHAPES)}")
        self.factory = factory
        self.mix = mix
        self.intensity = intensity
        self.actions = actions  # operators pause and resume runs at random moments
        self._baselines: dict[str, tuple[list[RunOutcome], Verdict]] = {}

    def baseline(self, shape: Shape) -> tuple[list[RunOutcome], Verdict]:
        """The fault-free run: one per shape (it does not depend on the seed)."""
        hit = self._baselines.get(shape.name)
        if hit is None:
            store = self.factory.make()
            world = World(0, shape, store, faulty=False)
            world.run()
            verdict = Verdict()
            check_world(world, verdict, "fault-free")
            hit = (world.outcomes(), verdict)
            self.factory.dispose(store)
            self._baselines[shape.name] = hit
        return hit

    def run_seed(self, seed: int, *, trace: bool = False) -> SeedResult:
        shape = shape_for(seed, self.mix)
        base, base_verdict = self.baseline(shape)
        verdict = Verdict()
        verdict.violations.update(base_verdict.violations)
        verdict.details.extend(base_verdict.details)
        store = self.factory.make()
        kind = World
        if self.actions:
            from podium.sim.actions import ActingWorld

            kind = ActingWorld
        world = kind(seed, shape, store, faulty=True, describe=trace, intensity=self.intensity)
        world.run()
        check_world(world, verdict, "faulty")
        compare(base, world, verdict)
        self.factory.dispose(store)
        return SeedResult(seed, shape.name, verdict, world.trace, world.callbacks.stats())


def run_case(shape: str, seed: int, store: str = "memory", *, actions: bool = False) -> SeedResult:
    """One (shape, seed): the world depends on nothing else, so a case found in a bulk
    run with any mix replays alone."""
    factory = factory_for(store)
    with factory.session():
        return Simulator(factory, (shape,), actions=actions).run_seed(seed)


def simulate(
    seeds: range,
    store: str = "memory",
    mix: tuple[str, ...] = DEFAULT_MIX,
    intensity: float = 1.0,
    *,
    actions: bool = False,
) -> Report:
    report = Report()
    started = time.perf_counter()
    factory = factory_for(store)
    with factory.session():
        sim = Simulator(factory, mix, intensity, actions=actions)
        for seed in seeds:
            result = sim.run_seed(seed)
            report.seeds += 1
            report.stats.update(result.stats)
            if not result.verdict.ok:
                report.violations.update(result.verdict.violations)
                report.failing_seeds.append(seed)
                report.results.append(result)
    report.seconds = time.perf_counter() - started
    return report
