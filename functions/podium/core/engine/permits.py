"""Permits: what a step needs (a key and its limit) and who holds one. Which permits a
step needs is answered by ``CompiledWorkflow.permits_needed``."""

from __future__ import annotations

from dataclasses import dataclass

from podium.core.engine.records import StepRecord
from podium.core.engine.status import StepStatus


@dataclass(frozen=True, slots=True)
class PermitNeed:
    key: str
    limit: int


def holder_id(run_id: str, step: str) -> str:
    return f"{run_id}/{step}"


@dataclass(frozen=True, slots=True)
class QueuePlace:
    """A place in ``key``'s queue, as its queue item says: taken at ``since`` by
    ``run_id``/``step``."""

    key: str
    since: int
    run_id: str
    step: str


def stranded_in_queue(record: StepRecord, key: str | None = None) -> bool:
    """Whether the step holds a place in a key's queue (``key``, or any) that nothing
    will claim for: it ended, or it is held PAUSED, still holding its place (an end or a
    hold decided from a read taken before it queued). It must leave the queue
    (``Permits.drop``), or the steps behind it wait as long (forever, for an end). A held
    step, resumed, queues again (at the back) when it finds the key full."""
    return (
        (record.status.terminal or record.status is StepStatus.PAUSED)
        and record.waiting_key is not None
        and (key is None or record.waiting_key == key)
    )


def orphaned(place: QueuePlace, record: StepRecord | None) -> bool:
    """Whether no step holds this place: its step's record is gone (a run pruned, or
    expired, after an end that left its place behind, or a step reopened by a retry in
    place) or holds no place there any more. Nothing will ever claim for it: it must
    leave the queue (``Permits.drop_orphan``)."""
    return record is None or (record.waiting_key, record.waiting_since) != (
        place.key,
        place.since,
    )
