"""Permits: what a step needs (a key and its limit) and who holds one. Which permits a
step needs is answered by ``CompiledWorkflow.permits_needed``."""

from __future__ import annotations

from dataclasses import dataclass

from podium.core.engine.records import StepRecord


@dataclass(frozen=True, slots=True)
class PermitNeed:
    key: str
    limit: int


def holder_id(run_id: str, step: str) -> str:
    return f"{run_id}/{step}"


def ended_in_queue(record: StepRecord, key: str | None = None) -> bool:
    """Whether the step ended still holding a place in a key's queue (``key``, or any):
    an end decided from a read taken before it queued. Nothing will ever claim for it:
    it must leave the queue (``Permits.drop``), or the steps behind it wait forever."""
    return (
        record.status.terminal
        and record.waiting_key is not None
        and (key is None or record.waiting_key == key)
    )
