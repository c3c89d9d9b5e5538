"""The compiled DAG of a definition: predecessors, successors, roots and sinks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from podium.core.dsl.models import JoinRule, WorkflowDefinition


@dataclass(frozen=True, slots=True)
class Graph:
    predecessors: Mapping[str, tuple[str, ...]]
    successors: Mapping[str, tuple[str, ...]]
    roots: tuple[str, ...]
    sinks: frozenset[str]
    # sink -> its place among the sinks in definition order: a small number that stands
    # for the sink where a name would cost too much (DynamoDB's sink count marks it)
    sink_index: Mapping[str, int]
    # (step, predecessor) -> the predecessor's position in the step's depends_on
    predecessor_index: Mapping[tuple[str, str], int]
    join: Mapping[str, JoinRule]
    # steps followed by a recovering handler: their failure does not fail the run
    handled: frozenset[str]

    @classmethod
    def of(cls, defn: WorkflowDefinition) -> Graph:
        preds = {s.id: tuple(s.dependency_ids) for s in defn.steps}
        succs: dict[str, list[str]] = {s.id: [] for s in defn.steps}
        for step_id, deps in preds.items():
            for d in deps:
                succs[d].append(step_id)
        return cls(
            predecessors=preds,
            successors={k: tuple(v) for k, v in succs.items()},
            roots=tuple(s.id for s in defn.steps if not s.depends_on),
            sinks=frozenset(k for k, v in succs.items() if not v),
            sink_index={k: i for i, k in enumerate(k for k, v in succs.items() if not v)},
            predecessor_index={
                (step_id, d): i for step_id, deps in preds.items() for i, d in enumerate(deps)
            },
            join={s.id: s.join for s in defn.steps},
            handled=frozenset(
                d
                for s in defn.steps
                if s.recover and s.join in (JoinRule.ONE_FAILED, JoinRule.ALL_DONE)
                for d in s.dependency_ids
            ),
        )

    def is_sink(self, step: str) -> bool:
        return step in self.sinks

    def downstream(self, step: str) -> frozenset[str]:
        """The steps below ``step`` (its successors, theirs, ...), not the step itself:
        what a worker may have run in-process after it, with no message of their own."""
        seen: set[str] = set()
        todo = list(self.successors.get(step, ()))
        while todo:
            nxt = todo.pop()
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(self.successors.get(nxt, ()))
        return frozenset(seen)
