"""Use cases of the advance handler: start a run's roots, and move the graph forward
after a step ends (fan-out, idempotent fan-in, skip propagation, run completion).

Every function here is safe to repeat: a duplicate or replayed message finds its writes
already applied (the conditional write fails with the current item) and re-runs only the
idempotent follow-ups, so a crash between any two calls loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from podium.core.engine.actions import propagates_as
from podium.core.engine.decide import (
    ArriveAtJoin,
    CreateStep,
    after_step_ended,
    fails_run,
    join_resolution,
    run_outcome,
)
from podium.core.engine.errors import RunConflict, StepConflict, StepExists
from podium.core.engine.loops import outcome_of
from podium.core.engine.plans import claimed_item, ends_settled, plan_claim
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.bindings import EdgeConditions
from podium.service.context import Services
from podium.service.deadlines import lease_until
from podium.service.gone_runs import still_there
from podium.service.lifecycle import cancel_steps, child_ended, count_run_end, run_ended
from podium.service.run_events import publish_run_status
from podium.service.wakeups import collecting

log = logging.getLogger("podium.advance")

_PENDING = frozenset({StepStatus.PENDING})


def start_roots(ctx: Services, run_id: str) -> list[str]:
    """Create the root steps READY and enqueue them. Returns the ready step ids."""
    # A start redriven from the DLQ after its run was pruned (or expired): nothing to
    # start, and raising would only dead-letter it again (and ring the alarm again).
    run = still_there(ctx, run_id, "start")
    if run is None:
        return []
    if run.status.terminal and run.status is not RunStatus.SUCCEEDED:
        # A start replayed after the run ended (a timeout, a stop): roots an earlier
        # delivery created after the run's follow-ups must not stay open.
        cancel_steps(ctx, run, f"run {run.status.value}")
        return []
    if run.status is not RunStatus.RUNNING:
        return []
    # The run has started: say so on the bus (a replayed start says it again; consumers
    # de-duplicate on run_id + status, as for every run status change).
    publish_run_status(ctx, run)
    compiled = ctx.definitions.get(run.workflow, run.version)
    graph = compiled.graph
    now = ctx.now()
    timeout = compiled.definition.timeout
    if timeout is not None:  # a replayed start schedules the same timer again: harmless
        started = run.started_at if run.started_at is not None else run.created_at
        ctx.at(messages.RunDeadline(run_id), started + int(timeout * 1000), queue="events")
    if run.parent_run is not None and not any(compiled.needs_permit(r) for r in graph.roots):
        # A child run (a loop iteration, a subworkflow): its roots are created by their
        # claims (one write each, not two); a replayed start re-sends the same messages.
        roots = list(graph.roots)
        dispatch(ctx, run_id, Propagation(roots, None, frozenset(roots)))
        return roots
    ready: list[str] = []
    reused: list[str] = []
    for root in graph.roots:
        try:
            ctx.store.create_step(StepRecord(run_id, root, StepStatus.READY, ready_at=now))
            ready.append(root)
        except StepExists as exists:
            if exists.current is not None and exists.current.status is StepStatus.READY:
                ready.append(root)  # a replay: the first delivery may have died before sending
            elif (
                run.restart_of is not None
                and exists.current is not None
                and exists.current.status is StepStatus.SUCCEEDED
            ):
                reused.append(root)  # taken over by a restart (service/restart.py)
    dispatch(ctx, run_id, Propagation(ready, None))
    if reused:
        _after_reused_roots(ctx, run, reused)
    return ready


def _after_reused_roots(ctx: Services, run: RunRecord, roots: list[str]) -> None:
    """A restarted run starts: its roots taken over from the old run propagate as if
    they had just succeeded (the steps below them that are taken over too are reached
    the same way, through their replayed claims)."""
    for root in roots:
        record = ctx.store.get_step(run.run_id, root)
        output = record.output if record is not None else None
        propagation = after_terminal(ctx, run, root, StepStatus.SUCCEEDED, output=output)
        dispatch(ctx, run.run_id, propagation)


def dispatch(ctx: Services, run_id: str, propagation: Propagation) -> None:
    if propagation.ready:
        ctx.work_queue.send_many(
            [
                messages.encode(
                    messages.Exec(run_id, step, 1, create=step in propagation.unwritten)
                )
                for step in propagation.ready
            ]
        )


@dataclass(frozen=True)
class Propagation:
    ready: list[str]  # can start: to be enqueued
    claimed: str | None  # created already RUNNING (attempt 1) for this worker to perform
    # Ready steps with no item yet: the worker's claim creates them (one write, not two).
    unwritten: frozenset[str] = frozenset()


def after_terminal(
    ctx: Services,
    run: RunRecord,
    step: str,
    outcome: StepStatus,
    *,
    output: Any = None,
    claim_one: bool = False,
    ended_at: int | None = None,
) -> Propagation:
    """Propagate a terminal step to its successors.

    With ``claim_one`` the first successor that can start is created already claimed by
    this worker (RUNNING, attempt 1): one write instead of create-then-claim, and no
    queue round trip. Skips propagate through an explicit worklist (no recursion, so deep
    graphs are fine). Completion is checked when a sink was reached, freshly or on a
    replay. ``ended_at``: when the step ended (a replay of a step that ended before the
    run started failing decides as the original delivery did)."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    graph = compiled.graph
    failing = failing_when(run, ended_at) or (outcome.failure and fails_run(graph, step))
    conditions = EdgeConditions(ctx, run, compiled, step, output)
    ready: list[str] = []
    unwritten: set[str] = set()
    claimed: str | None = None
    worklist: list[tuple[str, StepStatus]] = [(step, outcome)]
    sinks_done = 0
    while worklist:
        current, status = worklist.pop()
        if graph.is_sink(current):
            # After the step's own terminal write; a replay counts nothing twice. With
            # one sink, the run is done when that sink is: no counter to write.
            counted = (
                1
                if run.sinks_total == 1
                else ctx.store.count_sink(
                    run.run_id,
                    current,
                    index=graph.sink_index[current],
                    sinks=run.sinks_total,
                )
            )
            sinks_done = max(sinks_done, counted)
        condition = conditions.of if current == step else _no_condition
        actions = after_step_ended(graph, current, status, failing, condition)
        failing = failing or conditions.failed
        for action in actions:
            if isinstance(action, CreateStep):
                permit = compiled.needs_permit(action.step)
                if (
                    claim_one
                    and claimed is None
                    and not permit
                    and action.status is StepStatus.READY
                    and not compiled.step(action.step).wait_for  # its claim waits first
                    # A waiting step's start (a token published, a function invoked
                    # async) is redone when its claim message comes back: it needs one.
                    and ctx.runtime_for(compiled.step(action.step)).synchronous
                    and _create_claimed(ctx, run, action.step)
                ):
                    claimed = action.step
                    continue
                if action.status is StepStatus.READY and not permit:
                    # Not written: the claim of its exec message creates it. A replay
                    # re-sends the message, and that claim finds whatever exists.
                    ready.append(action.step)
                    unwritten.add(action.step)
                    continue
                resolved = _create(ctx, run, action)
            else:
                resolved = _arrive(ctx, run, action, failing)
            if resolved is None:
                continue
            succ, succ_status = resolved
            if succ_status is StepStatus.READY:
                ready.append(succ)
            elif succ_status.terminal:
                worklist.append((succ, succ_status))
    if sinks_done >= run.sinks_total:
        complete_if_done(ctx, run.run_id, sinks_done)
    return Propagation(ready, claimed, frozenset(unwritten))


def failing_when(run: RunRecord, ended_at: int | None) -> bool:
    """Was the run failing when a step that ended at ``ended_at`` released its
    successors? A step that ended before the first failure released them into a run that
    was not failing (Maestro's fail_after_running: they run), however late the replay.
    In the same millisecond the order is unknown: it counts as before (they run)."""
    if not (run.failing or run.timed_out):
        return False
    since = run.failing_since
    return ended_at is None or since is None or ended_at > since


def _no_condition(_succ: str) -> bool | None:
    return None


def _create_claimed(ctx: Services, run: RunRecord, step: str) -> bool:
    now = ctx.now()
    plan = plan_claim(1, create=True, now=now, lease_until=lease_until(ctx, run, step, now))
    try:
        ctx.store.create_step(claimed_item(run.run_id, step, plan))
    except StepExists:
        return False  # a replay: fall back to the READY path, which re-sends if needed
    return True


def _create(ctx: Services, run: RunRecord, action: CreateStep) -> tuple[str, StepStatus] | None:
    now = ctx.now()
    terminal = action.status.terminal
    record = StepRecord(
        run.run_id,
        action.step,
        action.status,
        ready_at=now,
        ended_at=now if terminal else None,
        reason=action.reason,
    )
    try:
        ctx.store.create_step(record)
    except StepExists as exists:
        return _replayed(exists.current)
    return action.step, action.status


def _arrive(
    ctx: Services, run: RunRecord, action: ArriveAtJoin, failing: bool
) -> tuple[str, StepStatus] | None:
    graph = ctx.definitions.get(run.workflow, run.version).graph
    now = ctx.now()
    index = graph.predecessor_index[(action.step, action.pred)]
    join = ctx.store.arrive(run.run_id, action.step, index, action.edge, now)
    if join.status is not StepStatus.PENDING:
        return _replayed(join)
    resolution = join_resolution(
        graph, action.step, join.arrived, join.taken_arrivals, join.failed_arrivals, failing
    )
    if resolution is None:
        return None
    status, reason = resolution
    terminal = status.terminal
    try:
        ctx.store.transition_step(
            run.run_id,
            action.step,
            expected=_PENDING,
            attempt=None,
            to=status,
            changes={"ready_at": now, "reason": reason, "ended_at": now if terminal else None},
        )
    except StepConflict as conflict:
        return _replayed(conflict.current)
    return action.step, status


def _replayed(current: StepRecord | None) -> tuple[str, StepStatus] | None:
    """Another writer (or an earlier delivery) got there first.

    READY: re-send its work message (the first sender may have died; a duplicate message
    is dropped by the claim). Terminal: re-run its propagation (idempotent)."""
    if current is None or current.status is StepStatus.PENDING:
        return None
    if current.status is StepStatus.READY:
        return current.step, current.status
    if current.status.terminal:
        return current.step, propagates_as(current.status, current.reason)
    return None


def complete_if_done(ctx: Services, run_id: str, sinks_done: int) -> RunRecord | None:
    run = ctx.store.get_run(run_id)
    outcome = run_outcome(run, sinks_done)
    if outcome is None:
        return None
    if run.status.terminal:
        # A replay: the worker that ended the run may have died before its follow-ups.
        run_ended(ctx, run)
        return None
    if run.status is not RunStatus.RUNNING:
        return None
    if run.reopened and not _still_done(ctx, run):
        # The count that made the run look done was taken back since (an operator's
        # retry in place of a failed step uncounts its sinks before it reopens them,
        # and clears the failing flag after: read here, after the run, one of the two
        # is seen). A run never reopened when read needs no second look: the retry
        # marks it (service/retry_failed.py) after its uncount and before any reopen,
        # and the end below is written on condition the mark is still 0, so either
        # the end fails or the retry finds the run ended and is refused.
        return None
    running, changes = frozenset({RunStatus.RUNNING}), {"ended_at": ctx.now()}
    keys = ctx.definitions.get(run.workflow, run.version).permit_keys(run_id)
    iteration = run.iteration is not None and run.parent_run is not None
    deferred = False
    try:
        if ends_settled(outcome, iteration=iteration, holds_permit_keys=bool(keys)):
            # Inside a batch the count waits for its end, with the batch's others.
            deferred = collecting()
            done = ctx.store.end_counted_child(
                run,
                expected=running,
                to=outcome,
                changes=changes,
                outcome=outcome_of(outcome),
                defer_count=deferred,
            )
        else:
            done = ctx.store.transition_run(
                run_id, expected=running, to=outcome, changes=changes, reopened=run.reopened
            )
    except RunConflict as conflict:
        # Ended by another writer (redo its follow-ups), or a retry in place reopened a
        # step since the run was read (the run goes on: the retried step ends it later).
        if conflict.current is not None and conflict.current.status.terminal:
            run_ended(ctx, conflict.current)
        return None
    log.info("run %s %s", run_id, outcome.value)
    count_run_end(ctx, done)  # a top run's only: an iteration's start is not a run's
    if done.settled:
        # Ended and settled at once: only its count (unless written with its end) and
        # the loop step's wake-up are left (lost ones are made up by the parent's check
        # polling the loop: service/sweep.py).
        child_ended(ctx, done, count=outcome_of(outcome) if deferred else None)
    else:
        run_ended(ctx, done)
    return done


def _still_done(ctx: Services, run: RunRecord) -> bool:
    """Read again just before the run's end is written: every sink is still counted and
    no step is open. In a run left alone both hold whenever the count was full (a step
    ends only after its predecessors); an operator's retry in place reopens a failed
    step and uncounts the sinks below it, and a worker that decided earlier may still
    be writing what followed the failure. A run with one sink keeps no sink counter
    (its sink's end is the count): its item is looked at instead."""
    steps = ctx.store.list_steps(run.run_id)
    if any(not s.status.terminal for s in steps):
        return False
    if run.sinks_total == 1:
        (sink,) = ctx.definitions.get(run.workflow, run.version).graph.sinks
        return any(s.step == sink for s in steps)
    return ctx.store.sinks_counted(run.run_id, sinks=run.sinks_total) >= run.sinks_total
