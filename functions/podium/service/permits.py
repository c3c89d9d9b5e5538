"""Concurrency keys: a step that names a key (or a run with max_parallel_steps) claims a
permit in the same transaction as its attempt, waits in WAITING_FOR_PERMITS when none is
free, and is woken, in arrival order, when a holder gives its permit back."""

from __future__ import annotations

import logging

from podium.core.engine.errors import StepConflict
from podium.core.engine.permits import PermitNeed, holder_id, orphaned, stranded_in_queue
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import CLAIMABLE, StepStatus
from podium.service import messages
from podium.service.context import Services

log = logging.getLogger("podium.permits")
_WAITING = frozenset({StepStatus.WAITING_FOR_PERMITS})
_DEAD_HEADS_AT_ONCE = 16  # a bound per wake: a sweep, or the next release, drops the rest


def needs_of(ctx: Services, run: RunRecord, step: str) -> tuple[PermitNeed, ...]:
    return ctx.definitions.get(run.workflow, run.version).permits_needed(step, run.run_id)


def release_all(ctx: Services, run: RunRecord, step: str) -> None:
    """After an attempt ended: give its permits back (once) and wake who waits."""
    for need in needs_of(ctx, run, step):
        ctx.store.permits().release(need.key, holder_id(run.run_id, step))
        wake_head(ctx, need.key)


def wake_head(ctx: Services, key: str) -> str | None:
    """Make the first waiting step READY and send its work message (a duplicate wake is
    harmless: the claim is conditional). A head that ended, or is held PAUSED, without
    leaving the queue (``leave_if_stranded``: a crash came in between) leaves it here,
    and so does a place no step holds (its run pruned or expired since, or the step
    reopened: ``orphaned``); then the next is woken: a dead head never blocks a key."""
    permits = ctx.store.permits()
    state = permits.state(key)
    if state.limit is not None and state.active >= state.limit:
        return None
    for _ in range(_DEAD_HEADS_AT_ONCE):
        place = permits.head_place(key)
        if place is None:
            return None
        record = ctx.store.get_step(place.run_id, place.step)
        if record is None or orphaned(place, record):
            log.warning(
                "no step holds %s/%s's place in %s's queue: dropped", place.run_id, place.step, key
            )
            permits.drop_orphan(place)  # False: dropped, or taken, meanwhile: read again
            continue
        if stranded_in_queue(record, key):
            log.warning(
                "%s/%s is %s holding its place in %s's queue: dropped",
                place.run_id,
                place.step,
                record.status.value,
                key,
            )
            permits.drop(record)  # False: dropped or resumed meanwhile; read again
            continue
        return _wake(ctx, record)
    return None


def _wake(ctx: Services, record: StepRecord) -> str | None:
    run_id, step = record.run_id, record.step
    if record.status is StepStatus.WAITING_FOR_PERMITS:
        try:
            record = ctx.store.transition_step(
                run_id, step, expected=_WAITING, attempt=None, to=StepStatus.READY, changes={}
            )
        except StepConflict as conflict:
            if conflict.current is None or conflict.current.status is not StepStatus.READY:
                return None
            record = conflict.current
    if record.status is StepStatus.READY:
        ctx.work_queue.send(messages.encode(messages.Exec(run_id, step, record.attempt + 1)))
        return f"{run_id}/{step}"
    return None


def in_queue(record: StepRecord) -> bool:
    """Whether the step holds a place in a key's queue: waiting there, or woken (READY or
    RETRY_WAIT, still first in line until its claim takes it out). Ending or holding such
    a step must take it out (``Permits.abandon``), or the steps behind it wait forever."""
    return record.waiting_key is not None and (
        record.status is StepStatus.WAITING_FOR_PERMITS or record.status in CLAIMABLE
    )


def abandon_if_queued(ctx: Services, record: StepRecord, to: StepStatus, reason: str) -> bool:
    """A queued step whose run ended or is failing leaves its key's queue as ``to``."""
    if record.waiting_key is None:
        return False
    left = ctx.store.permits().abandon(record, to, {"ended_at": ctx.now(), "reason": reason})
    if left:
        wake_head(ctx, record.waiting_key)
    return left


def leave_if_stranded(ctx: Services, written: StepRecord) -> bool:
    """``written``, as the write that ended or held it returned it: an end or a hold
    decided from a read taken before the step queued for a permit (that read it READY
    and not queued, so the write expected no queue) may land on a step queued and woken
    meanwhile. The step leaves the queue it still holds a place in, and the next waiter
    is woken (a held step queues again when resumed); a crash in between is healed by
    the next ``wake_head`` of the key (a release, a sweep)."""
    if not stranded_in_queue(written):
        return False
    assert written.waiting_key is not None
    left = ctx.store.permits().drop(written)
    if left:
        wake_head(ctx, written.waiting_key)
    return left
