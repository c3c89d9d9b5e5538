"""Use cases of the work handler: claim a step attempt and start it.

A worker claims ``(step, attempt)`` with one conditional write before it touches the
target, so a duplicate message can never run an attempt twice; then the step type's
runtime starts it and ``attempts.apply_result`` closes it (or leaves it waiting). A claim
that loses its race redoes whatever follow-ups the winner may have died before."""

from __future__ import annotations

import logging

from podium.core.engine.errors import StepConflict
from podium.core.engine.permits import PermitNeed, holder_id
from podium.core.engine.plans import (
    ClaimPlan,
    LostClaim,
    claimed_item,
    plan_claim,
    plan_give_back,
    plan_lost_claim,
)
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.retry import was_given_back
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.step_error import user_error
from podium.core.expr import ExpressionError
from podium.core.ports import Claim
from podium.service import messages
from podium.service.attempts import (
    Claimed,
    after_retry_wait,
    apply_result,
    replay_terminal,
    with_params,
)
from podium.service.breakpoints import stops_at_breakpoint
from podium.service.completions import resume_waiting
from podium.service.context import Services
from podium.service.deadlines import arm_deadline, lease_until, past_run_deadline
from podium.service.gone_runs import still_there
from podium.service.in_flight import running_here
from podium.service.lifecycle import in_ended_run, on_run_deadline
from podium.service.pausing import hold
from podium.service.permits import needs_of, wake_head
from podium.service.runtimes.base import Attempt, Failed
from podium.service.signal_waits import hold_for_signals
from podium.service.step_events import publish_step

log = logging.getLogger("podium.execute")


def execute(ctx: Services, msg: messages.Exec, *, inline: bool = True) -> Claimed | None:
    """Claim and run one attempt. Returns a successor already claimed for this worker to
    perform next (when ``inline``), saving a queue round trip and a write; every other
    newly ready step is enqueued."""
    run = still_there(ctx, msg.run, f"exec of step {msg.step!r}")
    if run is None:
        return None  # a retry's exec timer outlived its pruned (or expired) run
    if run.status.terminal:
        in_ended_run(ctx, run, msg.step)
        return None
    if run.status is RunStatus.PAUSED and hold(ctx, run, msg):
        return None  # no new step starts in a paused run (service/pausing.py)
    if stops_at_breakpoint(ctx, run, msg):
        return None  # every attempt of a step with a breakpoint pauses first
    if hold_for_signals(ctx, run, msg):
        return None  # the step waits for its signals (wait_for) first
    now = ctx.now()
    if _timed_out(ctx, run):
        return None
    # A step decided ready before the run started failing counts as started (Maestro's
    # fail_after_running): whether it runs never depends on the order of messages, so
    # there is no "is the run failing" check here. Steps decided after the failure were
    # already skipped by the decision itself.
    plan = plan_claim(
        msg.attempt, create=msg.create, now=now, lease_until=lease_until(ctx, run, msg.step, now)
    )
    needs = needs_of(ctx, run, msg.step)
    if needs and not plan.create:
        return _claim_with_permits(ctx, run, msg, needs, plan, inline)
    try:
        if plan.create:
            # The claim creates the item: exactly one worker's put succeeds.
            ctx.store.create_step(claimed_item(run.run_id, msg.step, plan))
            retry_counts: dict[str, int] = {}
            ready_at: int | None = now
        else:
            claimed = ctx.store.transition_step(
                run.run_id,
                msg.step,
                expected=plan.expected,
                attempt=plan.previous_attempt,
                to=StepStatus.RUNNING,
                changes=plan.changes,
            )
            retry_counts, ready_at = claimed.retry_counts, claimed.ready_at
    except StepConflict as conflict:
        _after_lost_claim(ctx, run, msg, conflict)
        return None
    claim = Claimed(run, msg.step, plan.attempt, now, retry_counts, ready_at)
    return perform(ctx, claim, inline=inline)


def _timed_out(ctx: Services, run: RunRecord) -> bool:
    """Nothing starts past the run's deadline: a claim (or a start) that comes after it,
    before the run's timer (a timer can be late: a crash, throttling, the Scheduler's
    minute; or the message was), times the run out here instead. No read."""
    if not past_run_deadline(ctx, run, ctx.now()):
        return False
    on_run_deadline(ctx, run.run_id)
    return True


def _claim_with_permits(
    ctx: Services,
    run: RunRecord,
    msg: messages.Exec,
    needs: tuple[PermitNeed, ...],
    plan: ClaimPlan,
    inline: bool,
) -> Claimed | None:
    changes = plan.changes
    record = ctx.store.get_step(run.run_id, msg.step)
    if (
        record is None
        or record.status not in plan.expected
        or record.attempt != plan.previous_attempt
    ):
        _after_lost_claim(ctx, run, msg, StepConflict(run.run_id, msg.step, record))
        return None
    permits = ctx.store.permits()
    result = permits.claim(record, needs, attempt=msg.attempt, changes=changes)
    if result.outcome is Claim.FULL and _drop_stale_holds(ctx, record, needs):
        result = permits.claim(record, needs, attempt=msg.attempt, changes=changes)
    if result.outcome is Claim.CLAIMED:
        if record.waiting_key is not None:
            wake_head(ctx, record.waiting_key)  # more permits may be free: next in line
        claimed = Claimed(
            run, msg.step, msg.attempt, changes["started_at"], record.retry_counts, record.ready_at
        )
        return perform(ctx, claimed, inline=inline)
    if result.outcome is Claim.FULL and result.full_key is not None:
        limit = next(n.limit for n in needs if n.key == result.full_key)
        if permits.wait(record, result.full_key, limit, ctx.now()):
            wake_head(ctx, result.full_key)  # a permit freed meanwhile: nobody missed
        left = record.waiting_key
        if left is not None and left != result.full_key:
            # A woken waiter that found another key full left the queue it was woken
            # from: the wake was for it, so that queue's next waiter is woken now.
            wake_head(ctx, left)
        return None
    _after_lost_claim(ctx, run, msg, StepConflict(run.run_id, msg.step, result.current))
    return None


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
    status, attempt = (current.status, current.attempt) if current else (None, 0)
    match plan_lost_claim(status, attempt, msg.attempt):
        case LostClaim.REPLAY_TERMINAL:
            assert current is not None
            replay_terminal(
                ctx,
                run,
                msg.step,
                current.status,
                current.error,
                current.output,
                ended_at=current.ended_at,
                reason=current.reason,
            )
        case LostClaim.REDO_RETRY:
            assert current is not None
            after_retry_wait(ctx, run, current)
        case LostClaim.RESUME_WAITING:
            assert current is not None
            resume_waiting(ctx, run, current)
        case LostClaim.NOTHING:
            pass


def release_claim(ctx: Services, claimed: Claimed) -> None:
    """Give back a claim this worker will not start (its invocation is running out of
    time): READY again at the previous attempt number, and its work message re-sent.
    The attempt was never started, so nothing runs twice."""
    try:
        ctx.store.transition_step(
            claimed.run.run_id,
            claimed.step,
            expected=frozenset({StepStatus.RUNNING}),
            attempt=claimed.attempt,
            to=StepStatus.READY,
            changes=plan_give_back(claimed.attempt),
        )
    except StepConflict:
        return  # the sweeper reclaimed it meanwhile
    exec_msg = messages.Exec(claimed.run.run_id, claimed.step, claimed.attempt)
    ctx.work_queue.send(messages.encode(exec_msg))


def perform(ctx: Services, claimed: Claimed, *, inline: bool = True) -> Claimed | None:
    """Start a claimed attempt through its step type's runtime, and apply the result."""
    run = claimed.run
    given_back = was_given_back(claimed.retry_counts, claimed.attempt)
    if claimed.ready_at is not None and not given_back:
        # READY -> RUNNING, once per attempt (one claimed again after a give-back is the
        # same attempt going on), whatever the attempt then does: a backlog that makes
        # steps fail or time out must show in the percentiles. Clamped: the READY write
        # and this claim may come from hosts whose clocks differ a little.
        ctx.metrics.milliseconds("StepLatency", max(0, claimed.started_at - claimed.ready_at))
    if _timed_out(ctx, run):  # an in-process successor claimed just by the deadline
        return None  # ended TIMED_OUT with its run, its work never started
    spec = ctx.definitions.get(run.workflow, run.version).step(claimed.step)
    attempt = Attempt(run, spec, claimed.step, claimed.attempt, claimed.started_at)
    try:
        attempt = with_params(ctx, attempt)
    except ExpressionError as exc:
        # The message names the param (service.bindings.render_step_params).
        failed = Failed(user_error(exc.message, retryable=False))
        return apply_result(ctx, attempt, failed, claimed.retry_counts, inline=inline)
    arm_deadline(ctx, attempt)
    if not given_back:
        # Once per attempt: a given-back attempt claimed again is the same attempt going
        # on (its give-back published nothing), as a retry's next attempt says RUNNING
        # once under its own number. Consumers see RUNNING, then how the attempt ended.
        publish_step(ctx, run, claimed.step, StepStatus.RUNNING, attempt=claimed.attempt)
    runtime = ctx.runtime_for(spec)
    if runtime.synchronous:  # its worker is this process until it returns (in_flight.py)
        with running_here(ctx, run.run_id, claimed.step, claimed.attempt):
            result = runtime.start(ctx, attempt)
    else:
        result = runtime.start(ctx, attempt)
    return apply_result(ctx, attempt, result, claimed.retry_counts, inline=inline)
