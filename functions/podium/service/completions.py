"""Later completions of waiting attempts: a ``done`` message (a timer, an external
event, a deadline), a ``poll`` message, the sweeper's reclaim of an attempt past its
lease, and a redelivered claim message re-arming a waiting attempt's timers."""

from __future__ import annotations

import logging

from podium.core.engine.errors import RunNotFound
from podium.core.engine.left_work import left_work
from podium.core.engine.plans import Reclaim, plan_reclaim
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import StepStatus
from podium.service import messages
from podium.service.attempts import (
    Claimed,
    apply_result,
    time_out,
    with_params_or_none,
)
from podium.service.context import Services
from podium.service.deadlines import arm_deadline, deadline_of
from podium.service.lifecycle import (
    in_ended_run,
)
from podium.service.loops import count_ended_child
from podium.service.runtimes.base import (
    Attempt,
    KeepsResults,
    RedoesStarts,
    StartAgain,
    SubmitsWork,
)

log = logging.getLogger("podium.completions")


def _waiting_attempt(
    ctx: Services, run_id: str, step: str, number: int
) -> tuple[Attempt, StepRecord] | None:
    """The attempt a late completion names, if it is still the one running."""
    read = _read_step(ctx, run_id, step)
    return _still_waiting(ctx, *read, number) if read is not None else None


def _read_step(ctx: Services, run_id: str, step: str) -> tuple[RunRecord, StepRecord | None] | None:
    """The run and the step a late completion names (None: the run is gone). A step of
    an ended run is ended too, if it was not (``in_ended_run``): read before that."""
    try:
        run = ctx.store.get_run(run_id)
    except RunNotFound:
        # Its items expired (retention): only a detached subworkflow's run outlives its
        # parent that long. Nothing is left to complete (count_ended_child settled it).
        log.warning("completion of %s/%s dropped: run %s is gone", run_id, step, run_id)
        return None
    if run.status.terminal:
        return run, in_ended_run(ctx, run, step)
    return run, ctx.store.get_step(run_id, step)


def _still_waiting(
    ctx: Services, run: RunRecord, record: StepRecord | None, number: int
) -> tuple[Attempt, StepRecord] | None:
    if run.status.terminal:
        return None  # in_ended_run ended the step (or found it ended)
    if record is None or record.status is not StepStatus.RUNNING or record.attempt != number:
        return None  # late or twice: that attempt is already closed
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = Attempt(run, spec, record.step, number, started, record=record)
    return with_params_or_none(ctx, attempt), record


# Completions and polls arrive on the event queue, whose function (advance) has a
# minute's timeout and no grant to run steps: a successor it claimed in-process was
# always given back (two writes for nothing). Its successors get work messages instead.
_ON_EVENT_QUEUE = False


def on_done(ctx: Services, msg: messages.Done) -> Claimed | None:
    """A completion of a waiting attempt: a timer, an external event, or its deadline."""
    if msg.event.get("kind") == messages.CHILD_EVENT_KIND and not msg.event.get("counted"):
        # A loop's child ended: counted (and settled) whatever the step's state now.
        # One that says "counted" was counted with its end: this is only a wake-up.
        count_ended_child(ctx, msg)
    found = _waiting_attempt(ctx, msg.run, msg.step, msg.attempt)
    if found is None:
        return None
    attempt, record = found
    runtime = ctx.runtime_for(attempt.spec)
    if msg.event.get("kind") == messages.DEADLINE_EVENT["kind"]:
        if ctx.now() < deadline_of(ctx, attempt):
            return None  # an early timer: the real deadline is still ahead
        return _deadline_passed(ctx, attempt, record)
    result = runtime.on_event(ctx, attempt, msg.event)
    return apply_result(ctx, attempt, result, record.retry_counts, inline=_ON_EVENT_QUEUE)


def on_poll(ctx: Services, msg: messages.PollStep) -> Claimed | None:
    read = _read_step(ctx, msg.run, msg.step)
    if read is None:
        return None
    found = _still_waiting(ctx, *read, msg.attempt)
    if found is None:
        _stop_left_work(ctx, *read, msg.attempt)
        return None
    attempt, record = found
    result = ctx.runtime_for(attempt.spec).poll(ctx, attempt)
    return apply_result(ctx, attempt, result, record.retry_counts, inline=_ON_EVENT_QUEUE)


def _stop_left_work(ctx: Services, run: RunRecord, record: StepRecord | None, number: int) -> None:
    """The net under an external start's own check (runtimes/external.py): a poll that
    finds its attempt ended other than SUCCEEDED stops the attempt's work again. A stop
    whose ``terminate`` came before the work was submitted, or whose worker died
    between the step's end and that ``terminate``, left it running, billed, with
    nobody else to stop it. Idempotent (work that ended is not there to stop); no read
    beyond the poll's own, and nothing for other step types."""
    if record is None or not left_work(record.status, record.attempt, number):
        return
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    runtime = ctx.runtime_for(spec)
    if not isinstance(runtime, SubmitsWork):
        return
    started = record.started_at if record.started_at is not None else ctx.now()
    reason = record.reason if record.attempt == number else None  # why it ended
    attempt = Attempt(run, spec, record.step, number, started)
    runtime.stop_left_work(ctx, attempt, reason or f"attempt {number} has ended")


def reclaim(ctx: Services, run: RunRecord, record: StepRecord) -> Claimed | None:
    """The sweeper found this attempt past its lease: its deadline passed (a timeout), or
    its completion was lost (ask the runtime: a timer that is due says done, a worker
    that is gone says so)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = with_params_or_none(ctx, Attempt(run, spec, record.step, record.attempt, started))
    if plan_reclaim(ctx.now(), deadline_of(ctx, attempt)) is Reclaim.TIME_OUT:
        return _deadline_passed(ctx, attempt, record)
    result = ctx.runtime_for(spec).poll(ctx, attempt)
    return apply_result(ctx, attempt, result, record.retry_counts)


def _deadline_passed(ctx: Services, attempt: Attempt, record: StepRecord) -> Claimed | None:
    """The attempt's deadline passed (its timer, or the sweeper past its lease). A result
    accepted for it by then (a callback the API recorded, whose done message died with
    its request, and that no retry, poll or heartbeat check applied since) is its
    result. Else it times out (a result received after the deadline is a timeout too,
    when its done message is handled first: ``attempts.apply_result``)."""
    runtime = ctx.runtime_for(attempt.spec)
    if isinstance(runtime, KeepsResults):
        decided = runtime.recorded_result(ctx, attempt, by=deadline_of(ctx, attempt))
        if decided is not None:
            return apply_result(ctx, attempt, decided, record.retry_counts, inline=_ON_EVENT_QUEUE)
    return time_out(ctx, attempt, record)


def resume_waiting(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """The message that claimed a waiting attempt came back: its worker may have died
    before setting the attempt's timers, or before its start was done. Ask the runtime
    again (a sleep re-schedules its timer, a duplicate timer being harmless; a callback
    step redoes a start that left no mark, once the worker that claimed it is surely
    gone, and only under the redo it took: one of two racing looks). A synchronous
    attempt is left alone: its worker may still be running it, and it must not run
    twice (its lease covers it)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    runtime = ctx.runtime_for(spec)
    if runtime.synchronous:
        return
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = with_params_or_none(ctx, Attempt(run, spec, record.step, record.attempt, started))
    arm_deadline(ctx, attempt)
    result = runtime.poll(ctx, attempt)
    if isinstance(result, StartAgain):  # this is the work function: starts run here
        # Never a bare start: another look may have found the same start cut short
        # (a poll, this message twice). The redo is taken by one conditional write.
        assert isinstance(runtime, RedoesStarts), f"{type(runtime).__name__} redoes no start"
        result = runtime.redo_start(ctx, attempt, result.redo)
    apply_result(ctx, attempt, result, record.retry_counts)
