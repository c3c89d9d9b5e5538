"""A definition ready to run: its DAG, its compiled expressions, and its steps by id.

Versions are immutable, so one is compiled once per process (service.context caches it);
everything the engine asks of a definition ("what are its successors", "does this step
need a permit", "which permits") is answered here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.load import validate_definition
from podium.core.dsl.models import (
    ForeachStep,
    JoinRule,
    NoopStep,
    StepEvents,
    WhileStep,
    WorkflowDefinition,
)
from podium.core.engine.graph import Graph
from podium.core.engine.permits import PermitNeed
from podium.core.engine.retention import own_permit_key


@dataclass(frozen=True)
class CompiledWorkflow:
    definition: WorkflowDefinition
    graph: Graph
    expressions: WorkflowExpressions
    by_id: dict[str, Any] = field(default_factory=dict)  # step id -> step model, O(1)

    @classmethod
    def of(cls, document: dict[str, Any]) -> CompiledWorkflow:
        """Read and compile a stored document (raises DefinitionError). It passed the
        checks of the release that pushed it; the push rules added since are not applied
        again (core.dsl.stored), so an upgrade never stops a version from running."""
        defn = validate_definition(document, stored=True)
        return cls(
            defn,
            Graph.of(defn),
            WorkflowExpressions.of(defn, stored=True),
            {s.id: s for s in defn.steps},
        )

    def step(self, step_id: str) -> Any:
        return self.by_id[step_id]

    def is_loop(self, step_id: str) -> bool:
        """A foreach or while step: its body (``body``) runs as child runs, one per
        iteration, and its steps are named by path (``loop/INDEX/step``)."""
        return isinstance(self.by_id.get(step_id), ForeachStep | WhileStep)

    def body(self, step_id: str) -> CompiledWorkflow:
        """A loop step's body as a workflow of its own (what its child runs run),
        compiled once per version like the workflow itself."""
        hit = self._bodies.get(step_id)
        if hit is None:
            from podium.core.dsl.loops import body_definition

            defn = body_definition(self.definition, self.by_id[step_id])
            hit = CompiledWorkflow(
                defn,
                Graph.of(defn),
                WorkflowExpressions.of(defn, stored=True),  # a stored version's body
                {s.id: s for s in defn.steps},
            )
            self._bodies[step_id] = hit
        return hit

    @cached_property
    def _bodies(self) -> dict[str, CompiledWorkflow]:
        return {}

    def needs_permit(self, step_id: str) -> bool:
        """Claimed with permits: never created already claimed (the fast paths)."""
        return (
            self.definition.max_parallel_steps is not None or self.by_id[step_id].permit is not None
        )

    def permits_needed(self, step_id: str, run_id: str) -> tuple[PermitNeed, ...]:
        """The step's concurrency key, and the run's own max_parallel_steps key."""
        spec = self.by_id[step_id]
        needs: list[PermitNeed] = []
        if spec.permit is not None:
            needs.append(PermitNeed(spec.permit.key, spec.permit.limit))
        if self.definition.max_parallel_steps is not None:
            needs.append(PermitNeed(own_permit_key(run_id), self.definition.max_parallel_steps))
        return tuple(needs)

    @cached_property
    def ends_at_start(self) -> bool:
        """Whether a run of this workflow ends SUCCEEDED the moment it starts, having run
        no user code, read no input and told nobody: every step a noop with no params,
        signals or permit, each edge plain and each join run by predecessors that all
        succeeded, no timeout, no outputs, no step events on the bus. A foreach whose
        body is such a workflow writes its iterations already ended
        (service/instant_iterations.py): what the queues would have done, decided here."""
        defn = self.definition
        if (
            defn.timeout is not None
            or defn.outputs
            or defn.max_parallel_steps is not None
            or defn.step_events is StepEvents.ALL
        ):
            return False
        return all(
            isinstance(s, NoopStep)
            and not s.params
            and not s.wait_for
            and not s.emit
            and s.permit is None
            and all(e.when is None for e in s.edges)
            and (not s.depends_on or s.join is not JoinRule.ONE_FAILED)
            for s in defn.steps
        )

    @cached_property
    def _shared_keys(self) -> frozenset[str]:
        return frozenset(s.permit.key for s in self.by_id.values() if s.permit)

    def permit_keys(self, run_id: str) -> set[str]:
        """Every key a run of this workflow may hold permits of (computed once per
        version: this is asked at every run end)."""
        keys = set(self._shared_keys)
        if self.definition.max_parallel_steps is not None:
            keys.add(own_permit_key(run_id))
        return keys
