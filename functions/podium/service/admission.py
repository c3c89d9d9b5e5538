"""Run strategies: which runs of a workflow may be active, and in what order they start.

Every decision is one transaction on the workflow's slots (see adapters/dynamo_slots.py):
a start enqueues the run, then admits the oldest queued runs while slots are free; a run
that ends gives its slot back and admits the next. Semantics: docs/run-strategies.md.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from podium.core.dsl.models import Strategy
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission
from podium.service import messages
from podium.service.context import Services
from podium.service.run_events import publish_run_status

log = logging.getLogger("podium.admission")


def admit_run(ctx: Services, run: RunRecord) -> RunRecord:
    """Start ``run`` under its workflow's strategy; returns it as stored."""
    defn = ctx.definitions.get(run.workflow, run.version).definition
    now = ctx.now()
    slots = ctx.store.run_slots()
    if defn.strategy is Strategy.FIRST_ONLY:
        started = replace(run, status=RunStatus.RUNNING, started_at=now)
        taken = slots.start_alone(started, now)
        if taken is None:
            ctx.metrics.count("RunsStarted")
            ctx.event_queue.send(messages.encode(messages.Start(run.run_id)))
            return started
        holder = next(iter(taken.holders), "another run")
        discarded = replace(
            run,
            status=RunStatus.DISCARDED,
            started_at=None,
            ended_at=now,
            reason=f"discarded: run {holder} is active (run_strategy first_only)",
        )
        ctx.store.create_run(discarded)  # recorded, never silently dropped
        publish_run_status(ctx, discarded)  # it ended before it started: no run_ended
        return discarded
    slots.enqueue(replace(run, status=RunStatus.QUEUED, started_at=None))
    if defn.strategy is not Strategy.LAST_ONLY:  # last_only admits after its supersede pass
        admit_next(ctx, run.workflow)
    return ctx.store.get_run(run.run_id)


def admit_next(ctx: Services, workflow: str) -> list[str]:
    """Admit the oldest queued runs while the active version's limit allows."""
    # Only the active version's number is read: its definition is cached per version.
    defn = ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition
    strict = defn.strategy is Strategy.STRICT_SEQUENTIAL
    slots = ctx.store.run_slots()
    admitted: list[str] = []
    # Bounded: a GONE entry (admitted or dropped by a racing writer) leaves the queue in
    # the same transaction, so each pass makes progress.
    for _ in range(defn.run_limit + 20):
        entries = slots.queued(workflow, 1)
        if not entries:
            break
        result = slots.admit(entries[0], limit=defn.run_limit, strict=strict, now=ctx.now())
        if result is Admission.ADMITTED:
            ctx.metrics.count("RunsStarted")
            admitted.append(entries[0].run_id)
            ctx.event_queue.send(messages.encode(messages.Start(entries[0].run_id)))
        elif result is not Admission.GONE:
            break
    return admitted


def release_slot(ctx: Services, run: RunRecord) -> None:
    """Give an ended run's slot back (idempotent) and let the queue move on."""
    defn = ctx.definitions.get(run.workflow, run.version).definition
    block = defn.strategy is Strategy.STRICT_SEQUENTIAL and run.status is RunStatus.FAILED
    ctx.store.run_slots().release(run.workflow, run.run_id, block=block)
    admit_next(ctx, run.workflow)


def unblock(ctx: Services, workflow: str) -> list[str]:
    """strict_sequential: let the queue move on after a failed run."""
    ctx.store.run_slots().unblock(workflow)
    return admit_next(ctx, workflow)


def waiting_reason(ctx: Services, run: RunRecord) -> str | None:
    """Why a QUEUED run waits: its place in the queue and who holds the slots."""
    if run.status is not RunStatus.QUEUED:
        return None
    slots = ctx.store.run_slots()
    state = slots.state(run.workflow)
    queue = [e.run_id for e in slots.queued(run.workflow, 1000)]
    position = queue.index(run.run_id) + 1 if run.run_id in queue else None
    # Admission follows the active version's limit, not the one the run was started on.
    defn = ctx.definitions.get(run.workflow, ctx.store.active_version(run.workflow)).definition
    parts = [f"queued at position {position} of {len(queue)}" if position else "queued"]
    if state.blocked_by:
        parts.append(
            f"the queue is blocked by failed run {state.blocked_by} (strict_sequential);"
            f" run 'podium unblock {run.workflow}'"
        )
    elif defn.run_limit == 0:
        parts.append("the workflow is paused (parallel: 0); raise the limit to resume")
    elif state.holders:
        parts.append(f"behind active run(s) {', '.join(sorted(state.holders))}")
    return "; ".join(parts)
