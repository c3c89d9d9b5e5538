"""Which permits a step needs before it may run: its concurrency key, and the run's own
``max_parallel_steps`` (a key per run)."""

from __future__ import annotations

from dataclasses import dataclass

from podium.core.dsl.models import WorkflowDefinition


@dataclass(frozen=True, slots=True)
class PermitNeed:
    key: str
    limit: int


def permits_needed(defn: WorkflowDefinition, step: str, run_id: str) -> tuple[PermitNeed, ...]:
    spec = defn.step(step)
    needs: list[PermitNeed] = []
    if spec.concurrency is not None:
        needs.append(PermitNeed(spec.concurrency.key, spec.concurrency.limit))
    if defn.max_parallel_steps is not None:
        needs.append(PermitNeed(f"run:{run_id}", defn.max_parallel_steps))
    return tuple(needs)


def holder_id(run_id: str, step: str) -> str:
    return f"{run_id}/{step}"
