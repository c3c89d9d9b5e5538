"""Permits in memory, over the steps of a MemoryStateStore's records (same semantics as
DynamoPermits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from podium.adapters.memory_records import MemoryRecords
from podium.core.engine.permits import (
    PermitNeed,
    QueuePlace,
    holder_id,
    orphaned,
    stranded_in_queue,
)
from podium.core.engine.records import PermitState, StepRecord
from podium.core.engine.status import CLAIMABLE, StepStatus
from podium.core.ports import Claim, ClaimResult


@dataclass
class _Key:
    holders: dict[str, int] = field(default_factory=dict)
    queue: dict[tuple[int, str], str] = field(default_factory=dict)  # (since, holder)
    limit: int | None = None


_EMPTY = _Key()  # what a read of a key with no record sees (never written to)
_WAITING = frozenset({StepStatus.WAITING_FOR_PERMITS, StepStatus.READY})


class MemoryPermits:
    def __init__(self, records: MemoryRecords) -> None:
        self._lock = records.lock  # the store's: a claim spans the step and the permits
        self._steps = records.steps
        self._keys: dict[str, _Key] = {}

    def _key(self, key: str) -> _Key:
        return self._keys.setdefault(key, _Key())

    def _current(self, step: StepRecord) -> StepRecord | None:
        return self._steps.get(step.run_id, {}).get(step.step)

    def _leave_queue(self, step: StepRecord) -> None:
        assert step.waiting_key is not None and step.waiting_since is not None
        holder = holder_id(step.run_id, step.step)
        self._key(step.waiting_key).queue.pop((step.waiting_since, holder), None)

    def claim(
        self,
        step: StepRecord,
        needs: Sequence[PermitNeed],
        *,
        attempt: int,
        changes: Mapping[str, Any],
    ) -> ClaimResult:
        holder = holder_id(step.run_id, step.step)
        with self._lock:
            current = self._current(step)
            if current is None or current.status not in CLAIMABLE or current.attempt != attempt - 1:
                return ClaimResult(Claim.CONFLICT, current=current)
            for need in needs:
                k = self._key(need.key)
                # As in DynamoDB: a step that waits (on this key or another) may take a
                # free permit whoever else waits; a newcomer queues behind every waiter.
                newcomer_blocked = step.waiting_key is None and len(k.queue) > 0
                if len(k.holders) >= need.limit or holder in k.holders or newcomer_blocked:
                    return ClaimResult(Claim.FULL, full_key=need.key)
            for need in needs:
                k = self._key(need.key)
                k.holders[holder] = changes["lease_until"]
                k.limit = need.limit
            if current.waiting_key is not None:
                self._leave_queue(current)
            new = replace(
                current,
                status=StepStatus.RUNNING,
                waiting_key=None,
                waiting_since=None,
                **{"reason": None, **dict(changes)},
            )
            self._steps[step.run_id][step.step] = new
            return ClaimResult(Claim.CLAIMED)

    def wait(self, step: StepRecord, key: str, limit: int, now: int) -> bool:
        holder = holder_id(step.run_id, step.step)
        with self._lock:
            current = self._current(step)
            if current is None or current.status not in CLAIMABLE:
                return False
            if current.waiting_key != step.waiting_key:
                return False  # as DynamoDB: decided from a stale read of the step
            if current.waiting_key == key:
                self._steps[step.run_id][step.step] = replace(
                    current, status=StepStatus.WAITING_FOR_PERMITS
                )
                return True
            if current.waiting_key is not None:
                self._leave_queue(current)
            k = self._key(key)
            k.queue[(now, holder)] = holder
            k.limit = limit
            self._steps[step.run_id][step.step] = replace(
                current,
                status=StepStatus.WAITING_FOR_PERMITS,
                waiting_key=key,
                waiting_since=now,
                reason=f"waiting for a permit of '{key}' (limit {limit})",
            )
            return True

    def release(self, key: str, holder: str) -> bool:
        with self._lock:
            k = self._keys.get(key)
            return k is not None and k.holders.pop(holder, None) is not None

    def queue(self, key: str, limit: int) -> list[tuple[str, str]]:
        with self._lock:
            queue = self._keys.get(key, _EMPTY).queue
            out = []
            for k in sorted(queue)[:limit]:
                run_id, _, step = queue[k].partition("/")
                out.append((run_id, step))
            return out

    def places(self, key: str, limit: int, *, after: QueuePlace | None = None) -> list[QueuePlace]:
        with self._lock:
            queue = self._keys.get(key, _EMPTY).queue
            start = None if after is None else (after.since, holder_id(after.run_id, after.step))
            out = []
            for since, holder in sorted(k for k in queue if start is None or k > start)[:limit]:
                run_id, _, step = holder.partition("/")
                out.append(QueuePlace(key, since, run_id, step))
            return out

    def head(self, key: str) -> tuple[str, str] | None:
        with self._lock:
            queue = self._keys.get(key, _EMPTY).queue
            if not queue:
                return None
            run_id, _, step = queue[min(queue)].partition("/")
            return run_id, step

    def abandon(self, step: StepRecord, to: StepStatus, changes: Mapping[str, Any]) -> bool:
        with self._lock:
            # As DynamoDB and SQLite: only a queued or woken step, at the place it was
            # read at (its queue item is the condition). A step held PAUSED keeps its
            # place for ``drop``; a stale read must not take the step out of a new place.
            current = self._current(step)
            if (
                current is None
                or current.status not in _WAITING | CLAIMABLE
                or step.waiting_key is None
                or step.waiting_since is None
                or (step.waiting_since, holder_id(step.run_id, step.step))
                not in self._keys.get(step.waiting_key, _EMPTY).queue
            ):
                return False
            self._leave_queue(step)
            self._steps[step.run_id][step.step] = replace(
                current, status=to, waiting_key=None, waiting_since=None, **dict(changes)
            )
            return True

    def head_place(self, key: str) -> QueuePlace | None:
        with self._lock:
            queue = self._keys.get(key, _EMPTY).queue
            if not queue:
                return None
            since, holder = min(queue)
            run_id, _, step = holder.partition("/")
            return QueuePlace(key, since, run_id, step)

    def drop(self, step: StepRecord) -> bool:
        with self._lock:
            current = self._current(step)
            if (
                step.waiting_key is None
                or current is None
                or current.status is not step.status
                or not stranded_in_queue(current)
                or (current.waiting_key, current.waiting_since)
                != (step.waiting_key, step.waiting_since)
            ):
                return False
            self._leave_queue(current)
            self._steps[step.run_id][step.step] = replace(
                current, waiting_key=None, waiting_since=None
            )
            return True

    def drop_orphan(self, place: QueuePlace) -> bool:
        with self._lock:
            queue = self._key(place.key).queue
            holder = holder_id(place.run_id, place.step)
            current = self._steps.get(place.run_id, {}).get(place.step)
            if (place.since, holder) not in queue or not orphaned(place, current):
                return False
            del queue[(place.since, holder)]
            return True

    def state(self, key: str) -> PermitState:
        with self._lock:
            # A read makes no record (as on the other stores): a forgotten key stays gone.
            k = self._keys.get(key, _EMPTY)
            return PermitState(len(k.holders), dict(k.holders), len(k.queue), k.limit)

    def forget(self, key: str) -> bool:
        with self._lock:
            k = self._keys.get(key)
            if k is None or k.holders or k.queue:
                return False
            del self._keys[key]
            return True
