"""The wiring the use cases run against: ports only, assembled by bootstrap or a test."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium.core.engine.compiled import CompiledWorkflow
from podium.core.engine.loops import BODY_SEPARATOR, SpaceCache
from podium.core.ports import (
    Clock,
    Events,
    FunctionRunner,
    HttpAccess,
    IdGenerator,
    JobBackend,
    LogReader,
    MessageQueue,
    Metrics,
    Payloads,
    Schedules,
    Signals,
    StateStore,
    Timers,
)
from podium.service import messages

if TYPE_CHECKING:
    from podium.service.runtimes.base import StepRuntime

__all__ = ["CompiledWorkflow", "DefinitionCache", "Services", "digest_of"]


class DefinitionCache:
    """Versions are immutable, so a parsed definition can be cached for the process life."""

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._cache: dict[tuple[str, int], CompiledWorkflow] = {}
        self._lock = threading.Lock()

    def get(self, name: str, version: int) -> CompiledWorkflow:
        hit = self._cache.get((name, version))
        if hit is not None:
            return hit
        if BODY_SEPARATOR in name:
            # A loop iteration's run: "<workflow>/<loop step>[/<inner loop step>...]"
            # names the body it runs (core.engine.loops.body_workflow).
            outer, _, step = name.rpartition(BODY_SEPARATOR)
            compiled = self.get(outer, version).body(step)
            with self._lock:
                self._cache[(name, version)] = compiled
            return compiled
        wv = self._store.get_workflow_version(name, version)
        compiled = CompiledWorkflow.of(wv.document)
        with self._lock:
            self._cache[(name, version)] = compiled
        return compiled


@dataclass
class Services:
    store: StateStore
    work_queue: MessageQueue
    event_queue: MessageQueue
    runner: FunctionRunner
    clock: Clock
    ids: IdGenerator
    # The runtime of each step type (service/runtimes/registry.py: RUNTIMES), given by
    # the composition root: the loop runtimes call the lifecycle, which calls them back.
    runtimes: Mapping[str, StepRuntime] = field(kw_only=True)
    metrics: Metrics = field(default_factory=lambda: _null_metrics())
    timers: Timers | None = None  # default: SQS delays only (adapters.timers.QueueTimers)
    events: Events | None = None  # default: kept in memory (adapters.events.MemoryEvents)
    payloads: Payloads | None = None  # default: in memory (adapters.payloads.MemoryPayloads)
    logs: LogReader | None = None  # deployed lambda steps' logs (CloudWatch); None locally
    signals: Signals | None = None  # default: the store's own view (store.signals())
    # Cron/rate triggers' recurring schedules (default: in memory; podium dev fires them).
    schedules: Schedules | None = None
    # Backends of the external step types (step type -> JobBackend: adapters/jobs/);
    # a type without one fails its steps naming what to configure.
    jobs: dict[str, JobBackend] = field(default_factory=dict)
    http: HttpAccess | None = None  # http steps: transport, allow-list, secrets
    definitions: DefinitionCache = field(init=False)
    spaces: SpaceCache = field(init=False)  # foreach iteration spaces (service/loops.py)
    # How long a worker may hold a RUNNING step before the sweeper reclaims it.
    lease_ms: int = 16 * 60 * 1000
    # A READY step older than this with no progress is re-driven by the sweeper.
    stale_ready_ms: int = 5 * 60 * 1000
    # Whether the runner can call Python callables (module:function): the embedded
    # runtime can; the deployed stack invokes Lambda functions only, so its push refuses
    # them (bootstrap.from_environment sets False).
    local_functions: bool = True

    def __post_init__(self) -> None:
        self.definitions = DefinitionCache(self.store)
        self.spaces = SpaceCache()
        if self.timers is None:
            from podium.adapters.timers import QueueTimers  # the adapter of the default

            self.timers = QueueTimers(self.work_queue, self.event_queue, self.clock)
        if self.payloads is None:
            from podium.adapters.payloads import MemoryPayloads

            self.payloads = MemoryPayloads()
        if self.events is None:
            from podium.adapters.events import MemoryEvents

            self.events = MemoryEvents()
        if self.signals is None:
            self.signals = self.store.signals()
        if self.schedules is None:
            from podium.adapters.schedules import MemorySchedules

            self.schedules = MemorySchedules()

    def at(self, message: messages.Message, due_ms: int, *, queue: str) -> None:
        """Deliver ``message`` at ``due_ms`` (late or twice is harmless)."""
        assert self.timers is not None
        body = messages.encode(message)
        self.timers.schedule(body, due_ms, queue=queue, dedup=messages.dedup_key(message))

    def cancel_at(self, message: messages.Message, due_ms: int, *, set_ms: int | None) -> None:
        """Withdraw a timer ``at`` set (best effort: one that fires anyway is dropped);
        ``set_ms``: when it was first set (the attempt's start, the wait's)."""
        assert self.timers is not None
        self.timers.cancel(dedup=messages.dedup_key(message), due_ms=due_ms, set_ms=set_ms)

    def now(self) -> int:
        return self.clock.now_ms()

    def runtime_for(self, spec: Any) -> StepRuntime:
        """The runtime of a step's type (every type the definition language accepts)."""
        return self.runtimes[getattr(spec, "runtime_key", spec.type)]


def _null_metrics() -> Metrics:
    from podium.adapters.metrics import NullMetrics  # a do-nothing default, not an I/O adapter

    return NullMetrics()


def digest_of(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
