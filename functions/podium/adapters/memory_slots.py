"""RunSlots in memory, over the runs of a MemoryStateStore's records (same semantics as
DynamoRunSlots)."""

from __future__ import annotations

import itertools
from dataclasses import replace

from podium.adapters.memory_records import MemoryRecords
from podium.core.engine.errors import RunConflict
from podium.core.engine.records import QueueEntry, RunRecord, SlotState
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission, ListedEntry


class MemoryRunSlots:
    def __init__(self, records: MemoryRecords) -> None:
        self._records = records
        self._lock = records.lock  # the store's: a transaction spans runs and slots
        self._runs = records.runs
        # A workflow's queue: run id -> (created, enqueue number), its place (the order
        # it was queued in breaks ties of a millisecond, as DynamoRunSlots's key does).
        self._queues: dict[str, dict[str, tuple[int, int]]] = {}
        self._enqueued = itertools.count(1)
        self._holders: dict[str, dict[str, int]] = {}
        self._blocked: dict[str, str] = {}

    def enqueue(self, run: RunRecord) -> None:
        with self._lock:
            self._records.insert_run(run)
            place = (run.created_at, next(self._enqueued))
            self._queues.setdefault(run.workflow, {})[run.run_id] = place

    def queued(
        self, workflow: str, limit: int, *, after: QueueEntry | None = None
    ) -> list[QueueEntry]:
        with self._lock:
            queue = self._queues.get(workflow, {})
            order = sorted(queue.items(), key=lambda item: item[1])
            if after is not None:
                start = self._place_of(queue, after)
                order = [item for item in order if item[1] > start]
            return [
                ListedEntry(workflow, run_id, created, f"{n}")
                for run_id, (created, n) in order[:limit]
            ]

    @staticmethod
    def _place_of(queue: dict[str, tuple[int, int]], entry: QueueEntry) -> tuple[int, int]:
        if isinstance(entry, ListedEntry) and entry.place:
            return entry.created_at, int(entry.place)
        # Not listed here: its place if still queued, else the start of its millisecond.
        return queue.get(entry.run_id, (entry.created_at, 0))

    def admit(
        self, entry: QueueEntry, *, limit: int, strict: bool, now: int, check_at: int
    ) -> Admission:
        with self._lock:
            holders = self._holders.setdefault(entry.workflow, {})
            run = self._runs.get(entry.run_id)
            if run is None or run.status is not RunStatus.QUEUED:
                return Admission.GONE
            if strict and entry.workflow in self._blocked:
                return Admission.BLOCKED
            if len(holders) >= limit:
                return Admission.FULL
            holders[entry.run_id] = now
            if not strict:
                self._blocked.pop(entry.workflow, None)
            self._runs[entry.run_id] = replace(
                run, status=RunStatus.RUNNING, started_at=now, check_at=check_at
            )
            self._queues[entry.workflow].pop(entry.run_id, None)
            return Admission.ADMITTED

    def start_alone(self, run: RunRecord, now: int) -> SlotState | None:
        with self._lock:
            holders = self._holders.setdefault(run.workflow, {})
            if holders:
                return self.state(run.workflow)
            if run.run_id in self._runs:
                raise RunConflict(run.run_id, self._runs[run.run_id])
            holders[run.run_id] = now
            self._blocked.pop(run.workflow, None)
            self._runs[run.run_id] = run
            return None

    def release(self, workflow: str, run_id: str, *, block: bool) -> bool:
        with self._lock:
            holders = self._holders.setdefault(workflow, {})
            if run_id not in holders:
                return False
            del holders[run_id]
            if block:
                self._blocked[workflow] = run_id
            return True

    def state(self, workflow: str) -> SlotState:
        with self._lock:
            holders = dict(self._holders.get(workflow, {}))
            return SlotState(len(holders), holders, self._blocked.get(workflow))

    def unblock(self, workflow: str) -> None:
        with self._lock:
            self._blocked.pop(workflow, None)

    def drop_queued(self, entry: QueueEntry, to: RunStatus, reason: str, now: int) -> bool:
        with self._lock:
            run = self._runs.get(entry.run_id)
            if run is None or run.status is not RunStatus.QUEUED:
                return False
            self._runs[entry.run_id] = replace(
                run, status=to, reason=reason, ended_at=now, settled=True
            )
            self._queues.get(entry.workflow, {}).pop(entry.run_id, None)
            return True
