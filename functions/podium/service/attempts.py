"""Closing an attempt: apply what a step's runtime said (done, failed, waiting, poll
again), end the attempt with one conditional write planned in core (plan_finish), and
run its follow-ups: output stored, permits back, retry scheduled, the run flagged or
failed now, successors decided. Replays of those follow-ups live here too."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from podium.core.dsl.models import FailureMode
from podium.core.engine.actions import propagates_as, was_taken_over
from podium.core.engine.decide import fails_run
from podium.core.engine.errors import RunConflict, StepConflict
from podium.core.engine.outputs import output_key, step_params_key
from podium.core.engine.plans import plan_finish, plan_start_give_back
from podium.core.engine.records import RunFailure, RunRecord, StepRecord, TimelineEvent
from podium.core.engine.retry import MAX_START_GIVE_BACKS
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.step_error import StepError, step_timeout_error
from podium.core.expr import ExpressionError
from podium.service import messages
from podium.service.advance import (
    Propagation,
    after_terminal,
    dispatch,
)
from podium.service.attempt_records import record_error, stored, with_result_for
from podium.service.bindings import render_step_params
from podium.service.context import Services
from podium.service.continuations import hold_continuation
from podium.service.deadlines import (
    deadline_of,
    past_run_deadline,
    timeout_of,
    withdraw_deadline,
)
from podium.service.lifecycle import (
    cancel_steps,
    count_run_end,
    end_with_result,
    on_run_deadline,
    run_ended,
)
from podium.service.permits import release_all
from podium.service.run_reads import STATUS_FRESH_MS, recent_run
from podium.service.runtimes.base import (
    Attempt,
    Done,
    Failed,
    GiveBack,
    Poll,
    Result,
    StartAgain,
    Waiting,
)
from podium.service.signals import emit_signals
from podium.service.step_events import publish_step

log = logging.getLogger("podium.attempts")

_RUNNING = frozenset({StepStatus.RUNNING})


@dataclass(frozen=True)
class Claimed:
    """A step attempt this worker holds (RUNNING) and should perform next, in-process."""

    run: RunRecord
    step: str
    attempt: int
    started_at: int = 0
    retry_counts: dict[str, int] = field(default_factory=dict)
    ready_at: int | None = None  # when it became READY: StepLatency (execute.perform)


def with_params(ctx: Services, attempt: Attempt) -> Attempt:
    """The attempt with its step params rendered (steps without params cost nothing)."""
    if not attempt.spec.params:
        return attempt
    params = render_step_params(ctx, attempt.run, attempt.step)
    return replace(attempt, params=params)


def with_params_or_none(ctx: Services, attempt: Attempt) -> Attempt:
    """Params rendered again for a later completion (same inputs, same values); one
    that cannot be rendered now was rendered at start, so it is left out."""
    try:
        return with_params(ctx, attempt)
    except ExpressionError:
        return attempt


def apply_result(
    ctx: Services,
    attempt: Attempt,
    result: Result,
    retry_counts: dict[str, int],
    *,
    inline: bool = False,
) -> Claimed | None:
    """What a runtime said, applied: close the attempt, or wait for its completion."""
    run, step, number = attempt.run, attempt.step, attempt.number
    params = attempt.params or None
    if isinstance(result, Done | Failed):
        # Completed at a known time (a timer's due time, a callback's receipt), else now:
        # past a deadline, it is a timeout, whichever of this and the deadline's timer is
        # handled first.
        at = result.at if result.at is not None else ctx.now()
        if past_run_deadline(ctx, run, at):
            on_run_deadline(ctx, run.run_id)
            return None
        if result.at is not None and result.at > deadline_of(ctx, attempt):
            result = Failed(_timeout_of(ctx, attempt))
        if past_run_deadline(ctx, run, ctx.now()):
            # Completed by the run's deadline, handled after it: the result stands, but
            # nothing follows it (no retry, no successor): the run times out now.
            end_with_result(ctx, run, attempt, result)
            on_run_deadline(ctx, run.run_id)
            return None
    if isinstance(result, Done | Failed):
        withdraw_deadline(ctx, attempt)
        return finish_attempt(
            ctx,
            run,
            step,
            number,
            result,
            inline=inline,
            retry_counts=retry_counts,
            params=params,
        )
    if isinstance(result, Waiting):
        if result.until is not None:
            done = messages.Done(run.run_id, step, number, messages.TIMER_EVENT)
            ctx.at(done, result.until, queue="events")
        return None
    if isinstance(result, StartAgain):
        ctx.work_queue.send(messages.encode(messages.Exec(run.run_id, step, number)))
        return None
    if isinstance(result, GiveBack):
        return give_back(ctx, attempt, result, retry_counts, inline=inline)
    assert isinstance(result, Poll)
    due = ctx.now() + result.after_seconds * 1000
    ctx.at(messages.PollStep(run.run_id, step, number), due, queue="events")
    return None


def give_back(
    ctx: Services,
    attempt: Attempt,
    result: GiveBack,
    retry_counts: dict[str, int],
    *,
    inline: bool = False,
) -> Claimed | None:
    """A start that did nothing (its look-up was throttled): the attempt goes back to
    READY at the previous number with one conditional write (RUNNING at this attempt),
    gives its permits back (it would hold them through the backoff, and keep steps
    waiting on its key for nothing), and its claim message is sent for the due time
    core planned. Claimed again, it is the same attempt, with the same key. Once its
    give-backs are used up it fails as the platform error it is."""
    run, step, number = attempt.run, attempt.step, attempt.number
    now = ctx.now()
    plan = plan_start_give_back(run.run_id, step, number, now, retry_counts)
    if plan is None:
        return apply_result(ctx, attempt, Failed(result.error), retry_counts, inline=inline)
    try:
        ctx.store.transition_step(
            run.run_id,
            step,
            expected=_RUNNING,
            attempt=number,
            to=StepStatus.READY,
            changes=plan.changes,
        )
    except StepConflict:
        # Closed some other way meanwhile (stopped, timed out, reclaimed): its permits
        # went back with that, and no claim message is due.
        return None
    withdraw_deadline(ctx, attempt)
    # Written first, then given back: a crash in between leaves the step READY holding
    # a permit, which its next claim (the redelivered message, or the sweeper's once
    # the due time is stale) drops as its own stale hold.
    release_all(ctx, run, step)
    ctx.metrics.count("StartsGivenBack")
    # Said on the run's timeline: a step READY again for minutes, with no attempt
    # recorded, would otherwise look stuck. Keyed by the give-back: a replay overwrites.
    ctx.store.put_event(
        TimelineEvent(
            run.run_id,
            now,
            f"give_back-{step}-{number}-{plan.given}",
            "give_back",
            step=step,
            attempt=number,
            detail={"error": result.error.summary(), "again_at": plan.due, "given": plan.given},
        )
    )
    log.warning(
        "%s/%s#%d: start given back (%d of at most %d), again in %d s: %s",
        run.run_id,
        step,
        number,
        plan.given,
        MAX_START_GIVE_BACKS,
        (plan.due - now) // 1000,
        result.error.summary(),
    )
    ctx.at(messages.Exec(run.run_id, step, number), plan.due, queue="work")
    return None


def finish_attempt(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    outcome: Done | Failed,
    *,
    inline: bool = False,
    retry_counts: dict[str, int] | None = None,
    params: dict[str, Any] | None = None,
) -> Claimed | None:
    """Close an attempt with one conditional write (RUNNING at this attempt), then run
    the follow-ups: permits back, successors decided, the run completed or failed."""
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    now = ctx.now()
    params = stored(ctx, step_params_key(run.run_id, step, attempt), params)
    if isinstance(outcome, Done):
        output = stored(ctx, output_key(run.run_id, step, attempt), outcome.output)
        plan = plan_finish(
            spec,
            run.run_id,
            step,
            attempt,
            now,
            output=output,
            params=params,
            log_ref=outcome.log_ref,
        )
    else:
        plan = plan_finish(
            spec,
            run.run_id,
            step,
            attempt,
            now,
            error=outcome.error,
            retry_counts=retry_counts,
            params=params,
            log_ref=outcome.log_ref,
        )
    yields = isinstance(outcome, Failed) and outcome.yields_to_result
    changes = with_result_for(plan.changes, outcome, attempt)
    summary = plan.error.summary() if plan.error is not None else None
    failure = _run_failure(ctx, run, step, plan.to, plan.error, plan.retry is not None, now)
    if failure is not None:
        assert plan.error is not None and summary is not None
        flagged = _end_attempt_failing(ctx, run, step, attempt, plan.to, changes, yields, failure)
        if flagged is None:
            return None
        publish_step(ctx, run, step, plan.to, attempt=attempt, error=summary, at=now)
        # The run's flag was written with the end, which returns no record: the start
        # is read back (a final failure is rare) for the attempt list's bar.
        record = ctx.store.get_step(run.run_id, step)
        this = record if record is not None and record.attempt == attempt else None
        return _after_final_failure(
            ctx, run, step, attempt, plan.to, plan.error, now, flagged, this
        )
    ended = _end_attempt(ctx, run, step, attempt, plan.to, changes, unless_result=yields)
    if ended is None:
        return None
    publish_step(ctx, run, step, plan.to, attempt=attempt, error=summary, at=now)
    if plan.error is None:
        release_all(ctx, run, step)
        out = outcome.output if isinstance(outcome, Done) else None
        if plan.to is StepStatus.SUCCEEDED:
            emit_signals(ctx, run, step, out)  # once: each has a deterministic request id
        if ended.started_at is None or now - ended.started_at > STATUS_FRESH_MS:
            # The run was read before the attempt (minutes ago, for a long step): a
            # branch that failed meanwhile on another worker must be seen, or the
            # successors start in a failing run. A quick step decides on the read it
            # started from (a second old at most, as a continuation's).
            run, _ = recent_run(ctx, run.run_id)
        propagation = after_terminal(
            ctx, run, step, plan.to, output=out, claim_one=inline, ended_at=now
        )
        return _continue(ctx, run, propagation)
    if plan.retry is not None:
        after_retry_wait(ctx, run, ended, plan.error)
        return None
    # A final failure that fails no run (ignored, or taken by a recovering handler).
    return _after_final_failure(ctx, run, step, attempt, plan.to, plan.error, now, False, ended)


def _after_final_failure(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    to: StepStatus,
    error: StepError,
    now: int,
    flagged: bool,
    ended: StepRecord | None,
) -> Claimed | None:
    """The follow-ups of a step's end with no retry left: its error recorded (with the
    attempt's start and invocation, ``ended``'s, for the attempt list and its logs), its
    permits back, the run flagged (unless the end did: ``flagged``) and propagated."""
    extra: dict[str, object] = {"started_at": ended.started_at if ended is not None else None}
    if ended is not None and ended.log_ref:
        extra["log_ref"] = ended.log_ref
    record_error(ctx, run, step, attempt, now, error, "failed", extra)
    release_all(ctx, run, step)
    failed = _after_step_failed(ctx, run, step, to, error.summary(), now, flagged=flagged)
    return _continue(ctx, *failed)


def _run_failure(
    ctx: Services,
    run: RunRecord,
    step: str,
    to: StepStatus,
    error: StepError | None,
    retried: bool,
    now: int,
) -> RunFailure | None:
    """The flag a step's final failure sets on its run, written in the same write as the
    step's end; None for an end that fails no run (a success, a failure to be retried,
    an ignored failure, or one a recovering handler takes)."""
    if error is None or retried or not to.failure:
        return None
    if not fails_run(ctx.definitions.get(run.workflow, run.version).graph, step):
        return None
    return RunFailure(f"{step}: {error.summary()}", now, timed_out=to is StepStatus.TIMED_OUT)


def _after_step_failed(
    ctx: Services,
    run: RunRecord,
    step: str,
    status: StepStatus,
    error: str,
    ended_at: int | None,
    *,
    flagged: bool = False,
) -> tuple[RunRecord, Propagation]:
    """A step ended FAILED, TIMED_OUT or FAILED_IGNORED: flag the run (before any
    successor or the sink counter is touched, so the completion check that follows sees
    it), stop the run at once for fail_immediately, and propagate. ``flagged``: the
    step's own end flagged the run in the same write (store.end_step_failing_run).

    The flag is written only while the run has not ended (store.mark_run_failing): a
    run that ended since the caller read it (a stop landing between that read and the
    flag) keeps its end as it was made, with no failure recorded on it, and propagates
    nothing more, as replay_terminal does for a run read as ended; its own follow-ups
    are redone (idempotent)."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    if status.failure and fails_run(compiled.graph, step):
        at = ended_at if ended_at is not None else ctx.now()
        failure = RunFailure(f"{step}: {error}", at, timed_out=status is StepStatus.TIMED_OUT)
        if not flagged and not ctx.store.mark_run_failing(
            run.run_id, failure.error, timed_out=failure.timed_out, at=at
        ):
            ended = ctx.store.get_run(run.run_id)
            run_ended(ctx, ended)  # a no-op once settled
            return ended, Propagation([], None)
        run = failure.flag(run)
        immediately = compiled.step(step).failure_mode is FailureMode.FAIL_IMMEDIATELY
        if immediately and not failure.timed_out:
            fail_now(ctx, run, failure.error)
            return run, Propagation([], None)
    return run, after_terminal(ctx, run, step, status, ended_at=ended_at)


def fail_now(ctx: Services, run: RunRecord, message: str) -> None:
    """fail_immediately: the run ends FAILED now; its unfinished steps are stopped."""

    try:
        ended = ctx.store.transition_run(
            run.run_id,
            expected=frozenset({RunStatus.RUNNING, RunStatus.PAUSED}),
            to=RunStatus.FAILED,
            # A pause's reason ("paused by alice") is not why it ended.
            changes={"ended_at": ctx.now(), "error": message, "reason": None},
        )
    except RunConflict as conflict:
        if conflict.current is None or not conflict.current.status.terminal:
            return
        ended = conflict.current  # a replay: redo the follow-ups below (not the count)
    else:
        count_run_end(ctx, ended)
    cancelled = cancel_steps(ctx, ended, f"run failed: {message} (failure_mode fail_immediately)")
    run_ended(ctx, ended, cancelled=cancelled)


def after_retry_wait(
    ctx: Services, run: RunRecord, record: StepRecord, error: StepError | None = None
) -> None:
    """The follow-ups of a failed attempt that will be retried, all idempotent: give its
    permits back, record the retry, and schedule the next attempt at its due time."""
    release_all(ctx, run, record.step)
    ended = record.ended_at if record.ended_at is not None else ctx.now()
    due = record.due_at if record.due_at is not None else ended
    replay = error is None
    if error is None:  # a replay: the summary on the item is what is left
        error = StepError.of(record.error_type or "", _message_of(record))
    record_error(
        ctx,
        run,
        record.step,
        record.attempt,
        ended,
        error,
        "retry",
        {
            "started_at": record.started_at,
            "ended_at": ended,
            "next_attempt": record.attempt + 1,
            "delay_seconds": (due - ended) // 1000,
            **({"log_ref": record.log_ref} if record.log_ref else {}),
        },
        replay=replay,
    )
    next_attempt = messages.Exec(run.run_id, record.step, record.attempt + 1)
    ctx.at(next_attempt, due, queue="work")


def _message_of(record: StepRecord) -> str:
    """The message of the step item's one-line error summary (``Type: message``)."""
    summary = record.error or "failed"
    prefix = f"{record.error_type}: " if record.error_type else ""
    return summary[len(prefix) :] if prefix and summary.startswith(prefix) else summary


def replay_terminal(
    ctx: Services,
    run: RunRecord,
    step: str,
    status: StepStatus,
    error: str | None,
    output: Any = None,
    *,
    ended_at: int | None = None,
    reason: str | None = None,
) -> None:
    """Redo the idempotent follow-ups of a step that already ended ``status`` (with its
    ``reason``): the worker that ended it may have died before propagating (an
    in-process continuation has no message of its own to be redelivered). A step an
    operator skipped propagates as a success (``propagates_as``) but sends no ``emit``:
    only a success does, and not one a restart took over (its old run sent it).

    The run is read again first: a run that ended since the caller read it (a stop
    racing a duplicate message, or the sweeper) propagates nothing more, as its end
    propagated nothing from the steps it ended (lifecycle.cancel_steps); only its own
    follow-ups are redone. Replayed on the stale record, a step the stop ended flagged
    the STOPPED run as failing (``error`` "a: STOPPED") and created its successors
    SKIPPED after the run had settled. A step the run's end ended was written after
    the run's end, so a read after the step's always sees it."""
    run = ctx.store.get_run(run.run_id)
    release_all(ctx, run, step)  # the worker may have died before giving permits back
    if status is StepStatus.SUCCEEDED and not was_taken_over(reason):
        emit_signals(ctx, run, step)  # the worker may have died before sending them
    if run.status.terminal:
        run_ended(ctx, run)  # idempotent: a no-op once settled
        return
    status = propagates_as(status, reason)
    if status.failure:
        message = error or status.value
        run, propagation = _after_step_failed(ctx, run, step, status, message, ended_at)
    else:
        propagation = after_terminal(ctx, run, step, status, output=output, ended_at=ended_at)
    dispatch(ctx, run.run_id, propagation)


def _end_attempt(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    to: StepStatus,
    changes: dict[str, Any],
    *,
    unless_result: bool = False,
) -> StepRecord | None:
    """One conditional write ``RUNNING -> to`` at this attempt (``unless_result``: a
    deadline's end, which yields to a result noted meanwhile). Returns the step as
    stored, also when an earlier delivery already made this very write (then only the
    follow-ups are redone); None when the attempt was closed some other way, or has a
    result to apply (its done message, or the poll set before it, applies it)."""
    try:
        return ctx.store.transition_step(
            run.run_id,
            step,
            expected=_RUNNING,
            attempt=attempt,
            to=to,
            changes=changes,
            unless_result=unless_result,
        )
    except StepConflict as conflict:
        return _this_end(conflict, to, attempt)


def _end_attempt_failing(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    to: StepStatus,
    changes: dict[str, Any],
    unless_result: bool,
    failure: RunFailure,
) -> bool | None:
    """``_end_attempt`` for a final failure: the step's end and its run's flag in one
    write. True when this write flagged the run; False when the run had ended (the end
    was written alone) or an earlier delivery made this very write (the flag is
    written again, idempotent, with the follow-ups); None as ``_end_attempt``."""
    try:
        return ctx.store.end_step_failing_run(
            run.run_id,
            step,
            expected=_RUNNING,
            attempt=attempt,
            to=to,
            changes=changes,
            unless_result=unless_result,
            failure=failure,
        )
    except StepConflict as conflict:
        return False if _this_end(conflict, to, attempt) is not None else None


def _this_end(conflict: StepConflict, to: StepStatus, attempt: int) -> StepRecord | None:
    """The step as an earlier delivery of this very end wrote it (a replay: only the
    follow-ups are redone), or None when the attempt was closed some other way."""
    cur = conflict.current
    return cur if cur is not None and cur.status is to and cur.attempt == attempt else None


def _continue(ctx: Services, run: RunRecord, propagation: Propagation) -> Claimed | None:
    dispatch(ctx, run.run_id, propagation)
    if propagation.claimed is None:
        return None
    if hold_continuation(ctx, run, propagation.claimed):
        return None  # the run was paused meanwhile (service/continuations.py)
    # The run record is reused: the failing flag it may miss is the same race any read has.
    now = ctx.now()
    # Created RUNNING in-process (advance._create_claimed): it waited for no worker.
    return Claimed(run, propagation.claimed, 1, now, ready_at=now)


def time_out(ctx: Services, attempt: Attempt, record: StepRecord) -> Claimed | None:
    """The attempt ran past its step's timeout: cancel its work and fail it as a timeout
    (retried only if a retrier names Podium.Timeout)."""
    ctx.runtime_for(attempt.spec).terminate(ctx, attempt, "timed out")
    failed = Failed(_timeout_of(ctx, attempt), yields_to_result=True)
    return apply_result(ctx, attempt, failed, record.retry_counts, inline=True)


def _timeout_of(ctx: Services, attempt: Attempt) -> StepError:
    timeout = timeout_of(ctx, attempt.spec)
    assert timeout is not None  # only an attempt with a deadline times out
    return step_timeout_error(timeout)
