"""The compiled DAG of a definition: predecessors, successors, roots and sinks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from podium.core.dsl.models import WorkflowDefinition


@dataclass(frozen=True, slots=True)
class Graph:
    predecessors: Mapping[str, tuple[str, ...]]
    successors: Mapping[str, tuple[str, ...]]
    roots: tuple[str, ...]
    sinks: frozenset[str]
    # (step, predecessor) -> the predecessor's position in the step's depends_on
    predecessor_index: Mapping[tuple[str, str], int]

    @classmethod
    def of(cls, defn: WorkflowDefinition) -> Graph:
        preds = {s.id: tuple(s.depends_on) for s in defn.steps}
        succs: dict[str, list[str]] = {s.id: [] for s in defn.steps}
        for step_id, deps in preds.items():
            for d in deps:
                succs[d].append(step_id)
        return cls(
            predecessors=preds,
            successors={k: tuple(v) for k, v in succs.items()},
            roots=tuple(s.id for s in defn.steps if not s.depends_on),
            sinks=frozenset(k for k, v in succs.items() if not v),
            predecessor_index={
                (step_id, d): i for step_id, deps in preds.items() for i, d in enumerate(deps)
            },
        )

    def is_sink(self, step: str) -> bool:
        return step in self.sinks
