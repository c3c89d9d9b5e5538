"""Use cases of the work handler: claim a step attempt, run it, record the outcome.

A worker claims ``(step, attempt)`` with one conditional write before it touches the
target, so a duplicate message can never run an attempt twice. The outcome is recorded
with a write that expects ``RUNNING`` at that attempt, then the graph moves forward.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from podium.core.dsl.models import FailureMode
from podium.core.engine.decide import fails_run
from podium.core.engine.errors import StepConflict
from podium.core.engine.outputs import INLINE_OUTPUT_BYTES, output_key, ref_of
from podium.core.engine.permits import PermitNeed, holder_id
from podium.core.engine.plans import plan_finish
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.step_error import StepError, timeout_error, user_error
from podium.core.expr import ExpressionError
from podium.core.ports import Claim
from podium.service import messages
from podium.service.advance import (
    Propagation,
    after_terminal,
    dispatch,
    lease_until,
    with_failing,
)
from podium.service.bindings import render_step_params
from podium.service.context import Services
from podium.service.lifecycle import cancel_step, cancel_steps, on_run_deadline, run_ended
from podium.service.permits import needs_of, release_all, wake_head
from podium.service.runtimes import Attempt, Done, Failed, Poll, Result, Waiting, runtime_for

log = logging.getLogger("podium.execute")

_CLAIMABLE = frozenset({StepStatus.READY, StepStatus.RETRY_WAIT})
_RUNNING = frozenset({StepStatus.RUNNING})


@dataclass(frozen=True)
class Claimed:
    """A step attempt this worker holds (RUNNING) and should perform next, in-process."""

    run: RunRecord
    step: str
    attempt: int
    started_at: int = 0
    retry_counts: dict[str, int] = field(default_factory=dict)


def execute(ctx: Services, msg: messages.Exec, *, inline: bool = True) -> Claimed | None:
    """Claim and run one attempt. Returns a successor already claimed for this worker to
    perform next (when ``inline``), saving a queue round trip and a write; every other
    newly ready step is enqueued."""
    run = ctx.store.get_run(msg.run)
    needs = needs_of(ctx, run, msg.step)
    if run.status.terminal:
        _in_ended_run(ctx, run, msg.step)
        return None
    now = ctx.now()

    # A step decided ready before the run started failing counts as started (Maestro's
    # fail_after_running): whether it runs never depends on the order of messages, so
    # there is no "is the run failing" check here. Steps decided after the failure were
    # already skipped by the decision itself.
    if msg.create:
        # The claim creates the item: exactly one worker's put succeeds.
        try:
            ctx.store.create_step(
                StepRecord(
                    run.run_id,
                    msg.step,
                    StepStatus.RUNNING,
                    attempt=1,
                    ready_at=now,
                    started_at=now,
                    lease_until=lease_until(ctx, run, msg.step, now),
                )
            )
        except StepConflict as conflict:
            _after_lost_claim(ctx, run, msg, conflict)
            return None
        return perform(ctx, Claimed(run, msg.step, 1, now), inline=inline)

    changes = {
        "attempt": msg.attempt,
        "started_at": now,
        "lease_until": lease_until(ctx, run, msg.step, now),
        "ended_at": None,
    }
    if needs:
        return _claim_with_permits(ctx, run, msg, needs, changes, inline)
    try:
        claimed = ctx.store.transition_step(
            run.run_id,
            msg.step,
            expected=_CLAIMABLE,
            attempt=msg.attempt - 1,
            to=StepStatus.RUNNING,
            changes=changes,
        )
    except StepConflict as conflict:
        _after_lost_claim(ctx, run, msg, conflict)
        return None
    return perform(
        ctx, Claimed(run, msg.step, msg.attempt, now, claimed.retry_counts), inline=inline
    )


def _claim_with_permits(
    ctx: Services,
    run: RunRecord,
    msg: messages.Exec,
    needs: tuple[PermitNeed, ...],
    changes: dict[str, Any],
    inline: bool,
) -> Claimed | None:
    record = ctx.store.get_step(run.run_id, msg.step)
    if record is None or record.status not in _CLAIMABLE or record.attempt != msg.attempt - 1:
        _after_lost_claim(ctx, run, msg, StepConflict(run.run_id, msg.step, record))
        return None
    permits = ctx.store.permits()
    result = permits.claim(record, needs, attempt=msg.attempt, changes=changes)
    if result.outcome is Claim.FULL and _drop_stale_holds(ctx, record, needs):
        result = permits.claim(record, needs, attempt=msg.attempt, changes=changes)
    if result.outcome is Claim.CLAIMED:
        if record.waiting_key is not None:
            wake_head(ctx, record.waiting_key)  # more permits may be free: next in line
        claimed = Claimed(run, msg.step, msg.attempt, changes["started_at"], record.retry_counts)
        return perform(ctx, claimed, inline=inline)
    if result.outcome is Claim.FULL and result.full_key is not None:
        limit = next(n.limit for n in needs if n.key == result.full_key)
        if permits.wait(record, result.full_key, limit, ctx.now()):
            wake_head(ctx, result.full_key)  # a permit freed meanwhile: nobody missed
        return None
    _after_lost_claim(ctx, run, msg, StepConflict(run.run_id, msg.step, result.current))
    return None


def _resume_waiting(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """The message that claimed a waiting attempt came back: its worker may have died
    before setting the attempt's timers. Ask the runtime again (a sleep re-schedules its
    timer; a duplicate timer is harmless). A synchronous attempt is left alone: its
    worker may still be running it, and it must not run twice (its lease covers it)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    runtime = runtime_for(spec)
    if runtime.synchronous:
        return
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = _with_params_or_none(ctx, Attempt(run, spec, record.step, record.attempt, started))
    if spec.timeout is not None:
        deadline = messages.Done(run.run_id, record.step, record.attempt, messages.DEADLINE_EVENT)
        ctx.at(deadline, deadline_of(attempt), queue="events")
    apply_result(ctx, attempt, runtime.poll(ctx, attempt), record.retry_counts)


def _in_ended_run(ctx: Services, run: RunRecord, step: str) -> None:
    """A message for a step of an ended run: the step (queued for a permit, claimed
    just before the run ended, or whose worker died) must not stay unfinished nor hold
    anything; and the run's follow-ups are redone if a crash cut them short."""
    if run.status is not RunStatus.SUCCEEDED:
        # Another step may have been created or claimed in the same instant the run ended
        # (after its follow-ups ended what was unfinished), with no message of its own:
        # end every unfinished step, not only this one.
        cancel_steps(ctx, run, f"run {run.status.value}")
    else:
        record = ctx.store.get_step(run.run_id, step)
        if record is not None and not record.status.terminal:
            cancel_step(ctx, run, record, f"run {run.status.value}")
    run_ended(ctx, run)  # a no-op once settled


def _drop_stale_holds(ctx: Services, record: StepRecord, needs: tuple[PermitNeed, ...]) -> bool:
    """A step that is not RUNNING holds no permit; a hold of its own that is still there
    was left by its previous attempt, whose release a crash lost. Give it back, so the
    claim does not find the step blocked by itself. True when one was dropped."""
    holder = holder_id(record.run_id, record.step)
    permits = ctx.store.permits()
    dropped = False
    for need in needs:
        if holder in permits.state(need.key).holders:
            dropped = permits.release(need.key, holder) or dropped
    return dropped


def _after_lost_claim(
    ctx: Services, run: RunRecord, msg: messages.Exec, conflict: StepConflict
) -> None:
    """A duplicate or late message. If the step already ended, its worker may have died
    before propagating, so the follow-ups run again (they are idempotent)."""
    log.info("drop exec %s/%s#%s: %s", msg.run, msg.step, msg.attempt, conflict)
    current = conflict.current
    if current is None:
        return
    if current.status.terminal:
        replay_terminal(ctx, run, msg.step, current.status, current.error, current.output)
    elif current.status is StepStatus.RETRY_WAIT and current.attempt == msg.attempt:
        # This attempt's failure was recorded, then the worker died: redo its follow-ups.
        _after_retry_wait(ctx, run, current)
    elif current.status is StepStatus.RUNNING and current.attempt == msg.attempt:
        _resume_waiting(ctx, run, current)


def release_claim(ctx: Services, claimed: Claimed) -> None:
    """Give back a claim this worker will not start (its invocation is running out of
    time): READY again at the previous attempt number, and its work message re-sent.
    The attempt was never started, so nothing runs twice."""
    try:
        ctx.store.transition_step(
            claimed.run.run_id,
            claimed.step,
            expected=_RUNNING,
            attempt=claimed.attempt,
            to=StepStatus.READY,
            changes={"attempt": claimed.attempt - 1, "started_at": None, "lease_until": None},
        )
    except StepConflict:
        return  # the sweeper reclaimed it meanwhile
    exec_msg = messages.Exec(claimed.run.run_id, claimed.step, claimed.attempt)
    ctx.work_queue.send(messages.encode(exec_msg))


def perform(ctx: Services, claimed: Claimed, *, inline: bool = True) -> Claimed | None:
    """Start a claimed attempt through its step type's runtime, and apply the result."""
    run = claimed.run
    spec = ctx.definitions.get(run.workflow, run.version).step(claimed.step)
    attempt = Attempt(run, spec, claimed.step, claimed.attempt, claimed.started_at)
    try:
        attempt = _with_params(ctx, attempt)
    except ExpressionError as exc:
        failed = Failed(user_error(f"params: {exc.message}", retryable=False))
        return apply_result(ctx, attempt, failed, claimed.retry_counts, inline=inline)
    runtime = runtime_for(spec)
    if not runtime.synchronous and spec.timeout is not None:
        # A waiting attempt's timeout is a timer of its own; a synchronous one is bounded
        # by its runner (and, as a safety net, by its lease).
        ctx.at(
            messages.Done(run.run_id, claimed.step, claimed.attempt, messages.DEADLINE_EVENT),
            deadline_of(attempt),
            queue="events",
        )
    result = runtime.start(ctx, attempt)
    return apply_result(ctx, attempt, result, claimed.retry_counts, inline=inline)


def _with_params(ctx: Services, attempt: Attempt) -> Attempt:
    """The attempt with its step params rendered (steps without params cost nothing)."""
    if not attempt.spec.params:
        return attempt
    params = render_step_params(ctx, attempt.run, attempt.step)
    return replace(attempt, params=params)


def _with_params_or_none(ctx: Services, attempt: Attempt) -> Attempt:
    """Params rendered again for a later completion (same inputs, same values); one
    that cannot be rendered now was rendered at start, so it is left out."""
    try:
        return _with_params(ctx, attempt)
    except ExpressionError:
        return attempt


def deadline_of(attempt: Attempt) -> int:
    """When the attempt times out (the step's ``timeout`` counts from its start)."""
    timeout = attempt.spec.timeout
    return attempt.started_at + int(timeout * 1000) if timeout is not None else 2**62


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
    if isinstance(result, Done) and result.at is not None:
        # Completed at a known time (a timer's due time): past a deadline, it is a
        # timeout, whichever message happens to be handled first.
        if _past_run_deadline(ctx, run, result.at):
            on_run_deadline(ctx, run.run_id)
            return None
        if result.at > deadline_of(attempt):
            result = Failed(_timeout_of(attempt))
    if isinstance(result, Done | Failed):
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
    assert isinstance(result, Poll)
    due = ctx.now() + result.after_seconds * 1000
    ctx.at(messages.PollStep(run.run_id, step, number), due, queue="events")
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
    if isinstance(outcome, Done):
        stored = _stored_output(ctx, run.run_id, step, attempt, outcome.output)
        plan = plan_finish(
            spec,
            run.run_id,
            step,
            attempt,
            now,
            output=stored,
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
    ended = _end_attempt(ctx, run, step, attempt, plan.to, plan.changes)
    if ended is None:
        return None
    if plan.error is None:
        if ended.ready_at is not None and ended.started_at is not None:
            ctx.metrics.milliseconds("StepLatency", ended.started_at - ended.ready_at)
        release_all(ctx, run, step)
        out = outcome.output if isinstance(outcome, Done) else None
        propagation = after_terminal(ctx, run, step, plan.to, output=out, claim_one=inline)
        return _continue(ctx, run, propagation)
    if plan.retry is not None:
        _after_retry_wait(ctx, run, ended, plan.error)
        return None
    _record_error(ctx, run, step, attempt, now, plan.error, "failed")
    release_all(ctx, run, step)
    return _continue(ctx, *_after_step_failed(ctx, run, step, plan.to, plan.error.summary()))


def _stored_output(ctx: Services, run_id: str, step: str, attempt: int, output: Any) -> Any:
    """Small outputs stay in the step item; a big one is written once to Payloads and
    the item keeps its reference (readers resolve it: service.bindings)."""
    if output is None:
        return None
    data = json.dumps(output, separators=(",", ":")).encode()
    if len(data) <= INLINE_OUTPUT_BYTES:
        return output
    assert ctx.payloads is not None
    return ref_of(ctx.payloads.put(output_key(run_id, step, attempt), data), len(data))


def _after_step_failed(
    ctx: Services, run: RunRecord, step: str, status: StepStatus, error: str
) -> tuple[RunRecord, Propagation]:
    """A step ended FAILED, TIMED_OUT or FAILED_IGNORED: flag the run (before any
    successor or the sink counter is touched, so the completion check that follows sees
    it), stop the run at once for fail_immediately, and propagate."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    if status.failure and fails_run(compiled.graph, step):
        message = f"{step}: {error}"
        timed_out = status is StepStatus.TIMED_OUT
        ctx.store.mark_run_failing(run.run_id, message, timed_out=timed_out)
        run = with_failing(run, message, timed_out=timed_out)
        if compiled.step(step).failure_mode is FailureMode.FAIL_IMMEDIATELY and not timed_out:
            fail_now(ctx, run, message)
            return run, Propagation([], None)
    return run, after_terminal(ctx, run, step, status)


def fail_now(ctx: Services, run: RunRecord, message: str) -> None:
    """fail_immediately: the run ends FAILED now; its unfinished steps are stopped."""
    from podium.core.engine.errors import RunConflict

    try:
        ended = ctx.store.transition_run(
            run.run_id,
            expected=frozenset({RunStatus.RUNNING, RunStatus.PAUSED}),
            to=RunStatus.FAILED,
            changes={"ended_at": ctx.now(), "error": message},
        )
    except RunConflict as conflict:
        if conflict.current is None or not conflict.current.status.terminal:
            return
        ended = conflict.current  # a replay: redo the follow-ups below
    cancel_steps(ctx, ended, f"run failed: {message} (failure_mode fail_immediately)")
    ctx.metrics.count("RunsFailed")
    run_ended(ctx, ended)


def _record_error(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    at: int,
    error: StepError,
    kind: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Failures are exceptional, so each gets a timeline item with the whole structured
    error (traceback included): the step item keeps only a one-line summary."""
    ctx.store.put_event(
        TimelineEvent(
            run.run_id,
            at,
            f"{kind}-{step}-{attempt}",  # deterministic: a replay overwrites, not adds
            kind,
            step=step,
            attempt=attempt,
            # "error" stays the one-line summary; "error_detail" is the structured error.
            detail={"error": error.summary(), "error_detail": error.as_json(), **(extra or {})},
        )
    )


def _after_retry_wait(
    ctx: Services, run: RunRecord, record: StepRecord, error: StepError | None = None
) -> None:
    """The follow-ups of a failed attempt that will be retried, all idempotent: give its
    permits back, record the retry, and schedule the next attempt at its due time."""
    release_all(ctx, run, record.step)
    ended = record.ended_at if record.ended_at is not None else ctx.now()
    due = record.due_at if record.due_at is not None else ended
    if error is None:  # a replay: the summary on the item is what is left
        error = StepError.of(record.error_type or "", record.error or "failed")
    _record_error(
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
    )
    next_attempt = messages.Exec(run.run_id, record.step, record.attempt + 1)
    ctx.at(next_attempt, due, queue="work")


def replay_terminal(
    ctx: Services,
    run: RunRecord,
    step: str,
    status: StepStatus,
    error: str | None,
    output: Any = None,
) -> None:
    """Redo the idempotent follow-ups of a step that already ended: the worker that ended
    it may have died before propagating (an in-process continuation has no message of
    its own to be redelivered)."""
    release_all(ctx, run, step)  # the worker may have died before giving permits back
    if status.failure:
        run, propagation = _after_step_failed(ctx, run, step, status, error or status.value)
    else:
        propagation = after_terminal(ctx, run, step, status, output=output)
    dispatch(ctx, run.run_id, propagation)


def _end_attempt(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    to: StepStatus,
    changes: dict[str, Any],
) -> StepRecord | None:
    """One conditional write ``RUNNING -> to`` at this attempt. Returns the step as
    stored, also when an earlier delivery already made this very write (then only the
    follow-ups are redone); None when the attempt was closed some other way."""
    try:
        return ctx.store.transition_step(
            run.run_id, step, expected=_RUNNING, attempt=attempt, to=to, changes=changes
        )
    except StepConflict as conflict:
        cur = conflict.current
        if cur is not None and cur.status is to and cur.attempt == attempt:
            return cur
        return None


def _continue(ctx: Services, run: RunRecord, propagation: Propagation) -> Claimed | None:
    dispatch(ctx, run.run_id, propagation)
    if propagation.claimed is None:
        return None
    # The run record is reused: the failing flag it may miss is the same race any read has.
    return Claimed(run, propagation.claimed, 1, ctx.now())


def _waiting_attempt(
    ctx: Services, run_id: str, step: str, number: int
) -> tuple[Attempt, StepRecord] | None:
    """The attempt a late completion names, if it is still the one running."""
    run = ctx.store.get_run(run_id)
    if run.status.terminal:
        _in_ended_run(ctx, run, step)
        return None
    record = ctx.store.get_step(run_id, step)
    if record is None or record.status is not StepStatus.RUNNING or record.attempt != number:
        return None  # late or twice: that attempt is already closed
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    started = record.started_at if record.started_at is not None else ctx.now()
    return _with_params_or_none(ctx, Attempt(run, spec, step, number, started)), record


def on_done(ctx: Services, msg: messages.Done) -> Claimed | None:
    """A completion of a waiting attempt: a timer, an external event, or its deadline."""
    found = _waiting_attempt(ctx, msg.run, msg.step, msg.attempt)
    if found is None:
        return None
    attempt, record = found
    runtime = runtime_for(attempt.spec)
    if msg.event.get("kind") == messages.DEADLINE_EVENT["kind"]:
        if ctx.now() < deadline_of(attempt):
            return None  # an early timer: the real deadline is still ahead
        return time_out(ctx, attempt, record)
    result = runtime.on_event(ctx, attempt, msg.event)
    return apply_result(ctx, attempt, result, record.retry_counts, inline=True)


def on_poll(ctx: Services, msg: messages.PollStep) -> Claimed | None:
    found = _waiting_attempt(ctx, msg.run, msg.step, msg.attempt)
    if found is None:
        return None
    attempt, record = found
    result = runtime_for(attempt.spec).poll(ctx, attempt)
    return apply_result(ctx, attempt, result, record.retry_counts, inline=True)


def time_out(ctx: Services, attempt: Attempt, record: StepRecord) -> Claimed | None:
    """The attempt ran past its step's timeout: cancel its work and fail it as a timeout
    (retried only if a retrier names Podium.Timeout)."""
    runtime_for(attempt.spec).terminate(ctx, attempt, "timed out")
    failed = Failed(_timeout_of(attempt))
    return apply_result(ctx, attempt, failed, record.retry_counts, inline=True)


def _timeout_of(attempt: Attempt) -> StepError:
    timeout = attempt.spec.timeout
    return timeout_error(f"the attempt ran longer than the step's timeout of {timeout:g} s")


def _past_run_deadline(ctx: Services, run: RunRecord, at: int) -> bool:
    timeout = ctx.definitions.get(run.workflow, run.version).definition.timeout
    if timeout is None:
        return False
    started = run.started_at if run.started_at is not None else run.created_at
    return at > started + int(timeout * 1000) <= ctx.now()


def reclaim(ctx: Services, run: RunRecord, record: StepRecord) -> Claimed | None:
    """The sweeper found this attempt past its lease: its deadline passed (a timeout), or
    its completion was lost (ask the runtime: a timer that is due says done, a worker
    that is gone says so)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = _with_params_or_none(ctx, Attempt(run, spec, record.step, record.attempt, started))
    if ctx.now() >= deadline_of(attempt):
        return time_out(ctx, attempt, record)
    result = runtime_for(spec).poll(ctx, attempt)
    return apply_result(ctx, attempt, result, record.retry_counts)
