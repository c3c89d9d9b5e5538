"""The simulation's invariants are not vacuous: stores broken on purpose are caught."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from podium.adapters.memory_permits import MemoryPermits
from podium.adapters.memory_slots import MemoryRunSlots
from podium.adapters.memory_store import MemoryStateStore
from podium.core.engine.permits import PermitNeed
from podium.core.engine.records import QueueEntry, StepRecord
from podium.core.engine.status import StepStatus
from podium.core.ports import Admission, ClaimResult
from podium.sim.harness import StoreFactory
from podium.sim.simulate import Simulator


class _Factory(StoreFactory):
    def __init__(self, make: type[MemoryStateStore]) -> None:
        self._make = make

    def make(self) -> Any:
        return self._make()


def _violations(store: type[MemoryStateStore], shape: str, seeds: range) -> Counter[str]:
    sim = Simulator(_Factory(store), (shape,))
    total: Counter[str] = Counter()
    for seed in seeds:
        total.update(sim.run_seed(seed).verdict.violations)
    return total


class _LimitlessPermits(MemoryPermits):
    def claim(
        self,
        step: StepRecord,
        needs: Sequence[PermitNeed],
        *,
        attempt: int,
        changes: Mapping[str, Any],
    ) -> ClaimResult:
        wide = [PermitNeed(n.key, 1000) for n in needs]
        return super().claim(step, wide, attempt=attempt, changes=changes)


class _LimitlessSlots(MemoryRunSlots):
    def admit(
        self, entry: QueueEntry, *, limit: int, strict: bool, now: int, check_at: int
    ) -> Admission:
        return super().admit(entry, limit=1000, strict=strict, now=now, check_at=check_at)


class _NoReleasePermits(MemoryPermits):
    def release(self, key: str, holder: str) -> bool:
        return True


class LimitlessPermitsStore(MemoryStateStore):
    def permits(self) -> MemoryPermits:
        if self._permits is None:
            self._permits = _LimitlessPermits(self._records)
        return self._permits


class LimitlessSlotsStore(MemoryStateStore):
    def run_slots(self) -> MemoryRunSlots:
        if self._slots is None:
            self._slots = _LimitlessSlots(self._records)
        return self._slots


class LeakyPermitsStore(MemoryStateStore):
    def permits(self) -> MemoryPermits:
        if self._permits is None:
            self._permits = _NoReleasePermits(self._records)
        return self._permits


class DoubleClaimStore(MemoryStateStore):
    """A claim-by-create that does not check existence: a duplicate claims again."""

    def create_step(self, step: StepRecord) -> None:
        if step.status is StepStatus.RUNNING:
            with self._lock:
                self._steps.setdefault(step.run_id, {})[step.step] = step
            return
        super().create_step(step)


def test_the_real_memory_store_passes_the_same_seeds() -> None:
    assert not _violations(MemoryStateStore, "key_limit", range(20))


def test_permits_over_the_limit_are_caught() -> None:
    # 20 seeds: whether three keyed steps overlap depends on the interleaving, and five
    # seeds happened to keep them apart once the engine's calls changed.
    assert _violations(LimitlessPermitsStore, "key_limit", range(20))["limit_exceeded"]


def test_run_slots_over_the_limit_are_caught() -> None:
    assert _violations(LimitlessSlotsStore, "sequential", range(5))["limit_exceeded"]


def test_a_permit_never_given_back_is_caught() -> None:
    assert _violations(LeakyPermitsStore, "key_limit", range(5))["permit_leak"]


def test_an_attempt_run_twice_is_caught() -> None:
    assert _violations(DoubleClaimStore, "fanout", range(30))["double_invoke"]


def test_the_cli_drops_tracebacks_of_injected_faults_only() -> None:
    """``python -m podium.sim`` keeps its output to what matters: a handler's log of a
    fault the simulation injected is dropped, any other error is kept."""
    import logging

    from podium.sim.__main__ import _NotInjected
    from podium.sim.faults import SimCrash

    def record(error: BaseException) -> logging.LogRecord:
        return logging.LogRecord(
            "podium", logging.ERROR, __file__, 1, "x", (), (type(error), error, None)
        )

    quiet = _NotInjected()
    assert not quiet.filter(record(SimCrash("after store.get_run")))
    assert quiet.filter(record(KeyError("d")))
    assert quiet.filter(logging.LogRecord("podium", logging.WARNING, __file__, 1, "y", (), None))
