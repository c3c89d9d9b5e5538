"""Permits: what a step needs (a key and its limit) and who holds one. Which permits a
step needs is answered by ``CompiledWorkflow.permits_needed``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PermitNeed:
    key: str
    limit: int


def holder_id(run_id: str, step: str) -> str:
    return f"{run_id}/{step}"
