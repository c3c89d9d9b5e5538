"""In-memory StateStore with the same conditional semantics as the DynamoDB adapter.

Used by fast unit tests and by the engine-CPU benchmark; the contract suite runs against
both so they cannot drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from podium.adapters.memory_permits import MemoryPermits
from podium.adapters.memory_records import MemoryRecords
from podium.adapters.memory_signals import MemorySignals
from podium.adapters.memory_slots import MemoryRunSlots
from podium.core.engine.checks import first_check
from podium.core.engine.decide import EdgeState
from podium.core.engine.errors import (
    ActiveVersionMoved,
    RunConflict,
    RunNotFound,
    StepConflict,
    StepExists,
    VersionSuperseded,
    WorkflowNotFound,
)
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import CHILD_COUNTERS, outcome_of
from podium.core.engine.records import (
    RunFailure,
    RunRecord,
    StepRecord,
    TimelineEvent,
    WorkflowVersion,
)
from podium.core.engine.status import (
    RunStatus,
    StepStatus,
    require_step_write,
    require_transition,
)

if TYPE_CHECKING:
    from podium.adapters.trigger_states import MemoryTriggerStates


class MemoryStateStore:
    def __init__(self) -> None:
        # Runs and steps are shared with the run slots and permits, under one lock.
        self._records = MemoryRecords()
        self._lock = self._records.lock
        self._runs = self._records.runs
        self._steps = self._records.steps
        self._versions: dict[str, list[WorkflowVersion]] = {}
        self._active: dict[str, int] = {}
        self._breakpoints: dict[str, set[str]] = {}
        # Loop children opened and counted, by (run, step): DynamoDB's shard sets.
        self._opened: dict[tuple[str, str], set[int]] = {}
        self._closed: set[tuple[str, str]] = set()
        self._held: dict[tuple[str, str], str] = {}
        self._counted: dict[tuple[str, str], set[int]] = {}
        self._events: dict[str, list[TimelineEvent]] = {}
        self._arrivals: dict[tuple[str, str], set[int]] = {}
        self._sinks: dict[str, set[str]] = {}
        self._slots: MemoryRunSlots | None = None
        self._permits: MemoryPermits | None = None
        self._signals: MemorySignals | None = None
        self._trigger_states: MemoryTriggerStates | None = None
        self.writes = 0  # every attempted conditional write, for cost accounting in tests

    # workflows ---------------------------------------------------------------
    def put_workflow_version(
        self,
        name: str,
        document: dict[str, Any],
        digest: str,
        now: int,
        *,
        activate: bool = True,
    ) -> tuple[WorkflowVersion, bool]:
        with self._lock:
            versions = self._versions.setdefault(name, [])
            if versions and versions[-1].digest == digest:
                return replace(versions[-1], active_version=self._active[name]), False
            n = len(versions) + 1
            if activate or name not in self._active:
                self._active[name] = n
            wv = WorkflowVersion(name, n, copy.deepcopy(document), digest, now, n)
            versions.append(wv)
            return replace(wv, active_version=self._active[name]), True

    def active_version(self, name: str) -> int:
        with self._lock:
            if name not in self._active:
                raise WorkflowNotFound(name)
            return self._active[name]

    def list_workflows(self) -> list[tuple[str, int]]:
        with self._lock:
            return sorted(self._active.items())

    def get_workflow_version(self, name: str, version: int | None = None) -> WorkflowVersion:
        with self._lock:
            versions = self._versions.get(name)
            if not versions:
                raise WorkflowNotFound(name)
            active = self._active[name]
            wanted = active if version is None else version
            if not 1 <= wanted <= len(versions):
                raise WorkflowNotFound.no_such_version(name, wanted)
            return replace(versions[wanted - 1], active_version=active)

    def list_workflow_versions(self, name: str, limit: int = 100) -> list[WorkflowVersion]:
        with self._lock:
            versions = self._versions.get(name)
            if not versions:
                raise WorkflowNotFound(name)
            active = self._active[name]
            newest = list(reversed(versions))[:limit]
            return [replace(v, active_version=active) for v in newest]

    def activate_workflow_version(
        self,
        name: str,
        version: int,
        *,
        only_if_latest: bool = False,
        only_if_active: int | None = None,
    ) -> WorkflowVersion:
        with self._lock:
            self.writes += 1
            versions = self._versions.get(name)
            if not versions:
                raise WorkflowNotFound(name, version)
            if not 1 <= version <= len(versions):
                raise WorkflowNotFound.no_such_version(name, version)
            if only_if_latest and version != len(versions):
                raise VersionSuperseded(name, version, len(versions))
            active = self._active.get(name, 0)
            if only_if_active is not None and active != only_if_active:
                raise ActiveVersionMoved(name, only_if_active, active)
            self._active[name] = version
            return replace(versions[version - 1], active_version=version)

    # breakpoints -------------------------------------------------------------
    def breakpoints(self, workflow: str) -> frozenset[str]:
        with self._lock:
            return frozenset(self._breakpoints.get(workflow, ()))

    def set_breakpoint(self, workflow: str, step: str, *, on: bool) -> None:
        with self._lock:
            self.writes += 1
            steps = self._breakpoints.setdefault(workflow, set())
            if on:
                steps.add(step)
            else:
                steps.discard(step)

    # runs --------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        with self._lock:
            self.writes += 1
            self._records.insert_run(run)
            if run.status.terminal and run.parent_step is not None:
                # A child created ended (a loop's fence, "not started: its loop ended")
                # is settled at once: counted with its creation, as every settle is here
                # (DynamoDB's close_loop counts it with count_children).
                assert run.parent_run is not None and run.parent_index is not None
                self._count_opened(
                    run.parent_run, run.parent_step, run.parent_index, outcome_of(run.status)
                )

    def get_run(self, run_id: str) -> RunRecord:
        with self._lock:
            try:
                return self._runs[run_id]
            except KeyError:
                raise RunNotFound(run_id) from None

    def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        with self._lock:
            return {i: self._runs[i] for i in run_ids if i in self._runs}

    def list_runs(
        self, workflow: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[RunRecord]:
        with self._lock:
            runs = [
                r
                for r in self._runs.values()
                if r.workflow == workflow
                and r.iteration is None
                and (before is None or (r.created_at, r.run_id) < before)
            ]
        runs.sort(key=lambda r: (r.created_at, r.run_id), reverse=True)
        return runs[:limit]

    def list_active_run_ids(self) -> list[str]:
        with self._lock:
            return sorted(r.run_id for r in self._runs.values() if not r.settled and r.watched)

    def list_due_run_ids(self, now: int, limit: int) -> list[str]:
        with self._lock:
            due = [
                (first_check(r), r.run_id)
                for r in self._runs.values()
                if not r.settled and r.watched and first_check(r) <= now
            ]
        return [run_id for _, run_id in sorted(due)[:limit]]

    def set_run_check(self, run_id: str, at: int) -> None:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is not None and not run.settled and run.watched:
                self._runs[run_id] = replace(run, check_at=at)

    def keep_run_items(self, run: RunRecord) -> None:
        """Nothing here expires (runs stay until pruned): nothing to keep."""

    def watch_run(self, run_id: str, at: int) -> bool:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is None or run.settled or run.watched:
                return False
            self._runs[run_id] = replace(run, watched=True, check_at=at)
            return True

    def transition_run(
        self,
        run_id: str,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        reopened: int | None = None,
    ) -> RunRecord:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is None or run.status not in expected:
                raise RunConflict(run_id, run)
            if reopened is not None and run.reopened != reopened:
                raise RunConflict(run_id, run)
            require_transition(run.status, to)
            new = replace(run, status=to, **changes)
            self._runs[run_id] = new
            return new

    def mark_run_reopened(self, run_id: str) -> RunRecord:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is None or run.status is not RunStatus.RUNNING:
                raise RunConflict(run_id, run)
            new = replace(run, reopened=run.reopened + 1)
            self._runs[run_id] = new
            return new

    def settle_run(self, run_id: str) -> None:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is None or not run.status.terminal:
                raise RunConflict(run_id, run)
            self._runs[run_id] = replace(run, settled=True, watched=True)

    def mark_run_failing(
        self, run_id: str, error: str, *, timed_out: bool = False, at: int | None = None
    ) -> bool:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is None:
                raise RunNotFound(run_id)
            if run.status.terminal:
                return False  # the run ended: its end stands as it was made
            self._runs[run_id] = RunFailure(error, at, timed_out).flag(run)
            return True

    def clear_run_failing(self, run_id: str, since: int) -> bool:
        with self._lock:
            self.writes += 1
            run = self._runs.get(run_id)
            if run is None or run.failing_since != since:
                return False
            self._runs[run_id] = replace(
                run, failing=False, timed_out=False, failing_since=None, error=None
            )
            return True

    def reopen_step(self, run_id: str, step: str, *, expected: frozenset[StepStatus]) -> bool:
        with self._lock:
            self.writes += 1
            steps = self._steps.setdefault(run_id, {})
            current = steps.get(step)
            if current is None or current.status not in expected:
                return False
            del steps[step]
            self._arrivals.pop((run_id, step), None)
            self._closed.discard((run_id, step))
            self._held.pop((run_id, step), None)
            return True

    def uncount_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> None:
        with self._lock:
            self.writes += 1
            self._sinks.setdefault(run_id, set()).discard(step)

    # steps -------------------------------------------------------------------
    def create_step(self, step: StepRecord) -> None:
        with self._lock:
            self.writes += 1
            steps = self._steps.setdefault(step.run_id, {})
            current = steps.get(step.step)
            if current is not None:
                raise StepExists(step.run_id, step.step, current)
            steps[step.step] = step

    def transition_step(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
    ) -> StepRecord:
        with self._lock:
            self.writes += 1
            steps = self._steps.setdefault(run_id, {})
            current = steps.get(step)
            if (
                current is None
                or current.status not in expected
                or (attempt is not None and current.attempt != attempt)
                or (unless_result and current.result_for == attempt)
            ):
                raise StepConflict(run_id, step, current)
            # The fake is stricter than DynamoDB: a write the table forbids is a bug.
            require_step_write(current.status, to)
            new = replace(current, status=to, **changes)
            steps[step] = new
            return new

    def end_step_failing_run(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
        failure: RunFailure,
    ) -> bool:
        with self._lock:  # re-entrant: the two writes below are one, as a transaction
            self.transition_step(
                run_id,
                step,
                expected=expected,
                attempt=attempt,
                to=to,
                changes=changes,
                unless_result=unless_result,
            )
            run = self._runs.get(run_id)
            if run is None or run.status.terminal:
                return False
            self._runs[run_id] = failure.flag(run)
            return True

    def note_result(self, run_id: str, step: str, *, attempt: int) -> bool:
        with self._lock:
            self.writes += 1
            steps = self._steps.setdefault(run_id, {})
            current = steps.get(step)
            if not _waits(current, attempt):
                return False
            assert current is not None
            steps[step] = replace(current, result_for=attempt)
            return True

    def count_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> int:
        with self._lock:
            self.writes += 1
            counted = self._sinks.setdefault(run_id, set())
            counted.add(step)
            return len(counted)

    def count_sinks(self, run_id: str, steps: Mapping[str, int], *, sinks: int) -> int:
        with self._lock:
            counted = self._sinks.setdefault(run_id, set())
            self.writes += len(set(steps) - counted)
            counted.update(steps)
            return len(counted)

    def sinks_counted(self, run_id: str, *, sinks: int) -> int:
        with self._lock:
            return len(self._sinks.get(run_id, ()))

    def arrive(
        self, run_id: str, step: str, pred_index: int, edge: EdgeState, now: int
    ) -> StepRecord:
        with self._lock:
            self.writes += 1
            steps = self._steps.setdefault(run_id, {})
            current = steps.get(step) or StepRecord(run_id, step, StepStatus.PENDING)
            marks = self._arrivals.setdefault((run_id, step), set())
            if pred_index in marks:
                return current  # a duplicate arrival counts once
            marks.add(pred_index)
            new = replace(
                current,
                arrived=current.arrived + 1,
                taken_arrivals=current.taken_arrivals + (edge is EdgeState.TAKEN),
                failed_arrivals=current.failed_arrivals + (edge is EdgeState.FAILED),
            )
            steps[step] = new
            return new

    def open_children(self, run_id: str, step: str, first: int, last: int) -> None:
        with self._lock:
            self.writes += 1
            self._opened.setdefault((run_id, step), set()).update(range(first, last))

    def _count_opened(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        """DynamoDB's count: once per opened index (an index never opened is not
        counted there either, so a launch that forgot to open shows here as a stuck
        loop, as it would on AWS)."""
        key = (run_id, step)
        counted = self._counted.setdefault(key, set())
        if index not in self._opened.get(key, ()) or index in counted:
            return False
        counted.add(index)
        current = self._steps.get(run_id, {}).get(step)
        if current is not None:
            field = CHILD_COUNTERS[outcome]
            self._steps[run_id][step] = replace(current, **{field: getattr(current, field) + 1})
        return True

    def count_children(self, run_id: str, step: str, indexes: list[int], outcome: str) -> int:
        # A settle and its count are one change here: every settled child is counted.
        return 0

    def count_child(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        with self._lock:
            self.writes += 1
            child_id = child_run_id(run_id, step, index)
            child = self._runs.get(child_id)
            if child is None or not child.status.terminal:
                raise RunConflict(child_id, child)
            if child.settled:
                return False
            self._runs[child_id] = replace(child, settled=True, watched=True)
            return self._count_opened(run_id, step, index, outcome)

    def end_counted_child(
        self,
        child: RunRecord,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        outcome: str,
        defer_count: bool = False,  # counted at once all the same: one change here
    ) -> RunRecord:
        assert child.parent_run is not None and child.parent_step is not None
        assert child.parent_index is not None
        with self._lock:
            self.writes += 1
            current = self._runs.get(child.run_id)
            if current is None or current.status not in expected:
                raise RunConflict(child.run_id, current)
            if current.reopened != child.reopened:  # a retry in place came since
                raise RunConflict(child.run_id, current)
            require_transition(current.status, to)
            ended = replace(current, status=to, settled=True, watched=True, **changes)
            self._runs[child.run_id] = ended
            self._count_opened(child.parent_run, child.parent_step, child.parent_index, outcome)
        return replace(child, status=to, settled=True, watched=True, **changes)

    def running_children(self, run_id: str, step: str) -> list[int]:
        with self._lock:
            key = (run_id, step)
            return sorted(self._opened.get(key, set()) - self._counted.get(key, set()))

    def close_children(self, run_id: str, step: str) -> None:
        with self._lock:
            self.writes += 1
            if step in self._steps.get(run_id, {}):
                self._closed.add((run_id, step))

    def children_closed(self, run_id: str, step: str) -> bool:
        with self._lock:
            return (run_id, step) in self._closed and step in self._steps.get(run_id, {})

    def hold_children(self, run_id: str, step: str, reason: str | None) -> None:
        with self._lock:
            self.writes += 1
            if step not in self._steps.get(run_id, {}):
                return
            if reason is None:
                self._held.pop((run_id, step), None)
            else:
                self._held[(run_id, step)] = reason

    def mark_launched(
        self, run_id: str, step: str, launched: int, loop: dict[str, Any] | None = None
    ) -> str | None:
        with self._lock:
            self.writes += 1
            current = self._steps.get(run_id, {}).get(step)
            if current is None:
                return None
            if current.children_launched < launched:
                stored = current.loop if current.loop is not None else loop
                self._steps[run_id][step] = replace(
                    current, children_launched=launched, loop=stored
                )
            return self._held.get((run_id, step))

    def run_slots(self) -> MemoryRunSlots:
        if self._slots is None:
            self._slots = MemoryRunSlots(self._records)
        return self._slots

    def trigger_states(self) -> MemoryTriggerStates:
        from podium.adapters.trigger_states import MemoryTriggerStates

        with self._lock:
            if self._trigger_states is None:
                self._trigger_states = MemoryTriggerStates()
            return self._trigger_states

    def signals(self) -> MemorySignals:
        with self._lock:
            if self._signals is None:
                self._signals = MemorySignals()
            return self._signals

    def permits(self) -> MemoryPermits:
        if self._permits is None:
            self._permits = MemoryPermits(self._records)
        return self._permits

    def get_step(self, run_id: str, step: str) -> StepRecord | None:
        with self._lock:
            return self._steps.get(run_id, {}).get(step)

    def get_steps(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StepRecord]:
        with self._lock:
            found = {(r, s): self._steps.get(r, {}).get(s) for r, s in keys}
        return {key: step for key, step in found.items() if step is not None}

    def list_steps(self, run_id: str) -> list[StepRecord]:
        with self._lock:
            return sorted(self._steps.get(run_id, {}).values(), key=lambda s: s.step)

    # timeline ----------------------------------------------------------------
    def put_event(self, event: TimelineEvent) -> None:
        with self._lock:
            self.writes += 1
            # Keyed by (time, id) as in DynamoDB: the same id at another time is another
            # event; at the same time it overwrites.
            events = self._events.setdefault(event.run_id, [])
            events[:] = [e for e in events if (e.at, e.event_id) != (event.at, event.event_id)]
            events.append(event)

    def put_event_once(self, event: TimelineEvent) -> tuple[TimelineEvent, bool]:
        with self._lock:
            events = self._events.setdefault(event.run_id, [])
            for stored in events:
                if (stored.at, stored.event_id) == (event.at, event.event_id):
                    return stored, False
            self.writes += 1
            events.append(event)
            return event, True

    def list_events(self, run_id: str) -> list[TimelineEvent]:
        with self._lock:
            return sorted(self._events.get(run_id, []), key=lambda e: (e.at, e.event_id))


def _waits(step: StepRecord | None, attempt: int) -> bool:
    """The step is RUNNING at ``attempt`` (a result may be noted for it)."""
    return step is not None and step.status is StepStatus.RUNNING and step.attempt == attempt
