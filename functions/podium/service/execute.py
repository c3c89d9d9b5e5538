"""Use cases of the work handler: claim a step attempt, run it, record the outcome.

A worker claims ``(step, attempt)`` with one conditional write before it touches the
target, so a duplicate message can never run an attempt twice. The outcome is recorded
with a write that expects ``RUNNING`` at that attempt, then the graph moves forward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from podium.core.dsl.models import FailStep, LambdaStep, NoopStep, SleepStep, StepModel
from podium.core.engine.decide import (
    after_attempt_failed,
    fails_run,
)
from podium.core.engine.errors import StepConflict
from podium.core.engine.permits import PermitNeed, holder_id
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus
from podium.core.expr import ExpressionError
from podium.core.ports import Claim, Invocation
from podium.service import messages
from podium.service.advance import (
    Propagation,
    after_terminal,
    dispatch,
    lease_until,
    with_failing,
)
from podium.service.bindings import bindings_for
from podium.service.context import Services
from podium.service.lifecycle import run_ended
from podium.service.permits import abandon_if_queued, needs_of, release_all, wake_head

log = logging.getLogger("podium.execute")

_CLAIMABLE = frozenset({StepStatus.READY, StepStatus.RETRY_WAIT})
_RUNNING = frozenset({StepStatus.RUNNING})


@dataclass(frozen=True)
class Outcome:
    ok: bool
    output: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A step attempt this worker holds (RUNNING) and should perform next, in-process."""

    run: RunRecord
    step: str
    attempt: int


def execute(ctx: Services, msg: messages.Exec, *, inline: bool = True) -> Claimed | None:
    """Claim and run one attempt. Returns a successor already claimed for this worker to
    perform next (when ``inline``), saving a queue round trip and a write; every other
    newly ready step is enqueued."""
    run = ctx.store.get_run(msg.run)
    needs = needs_of(ctx, run, msg.step)
    if run.status.terminal:
        if needs:  # a step woken from a key's queue must not keep its place there
            record = ctx.store.get_step(run.run_id, msg.step)
            if record is not None:
                abandon_if_queued(ctx, record, StepStatus.STOPPED, f"run {run.status.value}")
        run_ended(ctx, run)  # a no-op once settled; else redo what a crash lost
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
        return perform(ctx, Claimed(run, msg.step, 1), inline=inline)

    changes = {
        "attempt": msg.attempt,
        "started_at": now,
        "lease_until": lease_until(ctx, run, msg.step, now),
        "ended_at": None,
    }
    if needs:
        return _claim_with_permits(ctx, run, msg, needs, changes, inline)
    try:
        ctx.store.transition_step(
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
    return perform(ctx, Claimed(run, msg.step, msg.attempt), inline=inline)


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
        return perform(ctx, Claimed(run, msg.step, msg.attempt), inline=inline)
    if result.outcome is Claim.FULL and result.full_key is not None:
        limit = next(n.limit for n in needs if n.key == result.full_key)
        if permits.wait(record, result.full_key, limit, ctx.now()):
            wake_head(ctx, result.full_key)  # a permit freed meanwhile: nobody missed
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
    if current is None:
        return
    if current.status.terminal:
        replay_terminal(ctx, run, msg.step, current.status, current.error, current.output)
    elif current.status is StepStatus.RETRY_WAIT and current.attempt == msg.attempt:
        # This attempt's failure was recorded, then the worker died: redo its follow-ups.
        _after_retry_wait(ctx, run, current)


def perform(ctx: Services, claimed: Claimed, *, inline: bool = True) -> Claimed | None:
    """Run a claimed attempt and record its outcome."""
    run, step, attempt = claimed.run, claimed.step, claimed.attempt
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    if isinstance(spec, SleepStep):
        ctx.send_later(ctx.event_queue, messages.Timer(run.run_id, step, attempt), spec.seconds)
        return None
    outcome = _run(ctx, run, spec, attempt)
    return finish_attempt(ctx, run, step, attempt, outcome, inline=inline)


def _run(ctx: Services, run: RunRecord, spec: StepModel, attempt: int) -> Outcome:
    if isinstance(spec, NoopStep):
        return Outcome(True)
    if isinstance(spec, FailStep):
        return Outcome(False, error=spec.message)
    if isinstance(spec, LambdaStep):
        key = f"{run.run_id}/{spec.id}/{attempt}"
        try:
            payload = _render_payload(ctx, run, spec)
        except ExpressionError as exc:
            return Outcome(False, error=f"payload: {exc.message}")
        event = {
            "payload": payload,
            "params": run.params,
            "run": {"id": run.run_id, "workflow": run.workflow, "version": run.version},
            "step": spec.id,
            "attempt": attempt,
            "idempotency_key": key,
        }
        result = ctx.runner.invoke(Invocation(spec.function, event, key))
        return Outcome(result.ok, result.output, result.error)
    return Outcome(False, error=f"step type '{spec.type}' is not supported by this worker")


def _render_payload(ctx: Services, run: RunRecord, spec: LambdaStep) -> Any:
    template = ctx.definitions.get(run.workflow, run.version).expressions.payloads.get(spec.id)
    if template is None:
        return spec.payload
    return template.render(bindings_for(ctx, run, template.steps_read))


def finish_attempt(
    ctx: Services,
    run: RunRecord,
    step: str,
    attempt: int,
    outcome: Outcome,
    *,
    inline: bool = False,
) -> Claimed | None:
    compiled = ctx.definitions.get(run.workflow, run.version)
    now = ctx.now()
    base = {"ended_at": now, "lease_until": None}

    if outcome.ok:
        changes = {**base, "output": outcome.output, "error": None}
        ended = _end_attempt(ctx, run, step, attempt, StepStatus.SUCCEEDED, changes)
        if ended is None:
            return None
        if ended.ready_at is not None and ended.started_at is not None:
            ctx.metrics.milliseconds("StepLatency", ended.started_at - ended.ready_at)
        release_all(ctx, run, step)
        return _continue(
            ctx,
            run,
            after_terminal(
                ctx, run, step, StepStatus.SUCCEEDED, output=outcome.output, claim_one=inline
            ),
        )

    error = outcome.error or "failed"
    retry = after_attempt_failed(compiled.step(step), attempt)
    if retry is not None:
        due = now + retry.delay_seconds * 1000
        record = _end_attempt(
            ctx,
            run,
            step,
            attempt,
            StepStatus.RETRY_WAIT,
            {**base, "error": error, "due_at": due},
        )
        if record is None:
            return None
        _after_retry_wait(ctx, run, record)
        return None

    if _end_attempt(ctx, run, step, attempt, StepStatus.FAILED, {**base, "error": error}) is None:
        return None
    release_all(ctx, run, step)
    if fails_run(compiled.graph, step):
        # The flag goes up before any successor (or the sink counter) is touched, so the
        # completion check that follows sees it.
        ctx.store.mark_run_failing(run.run_id, f"{step}: {error}")
        run = with_failing(run, f"{step}: {error}")
    return _continue(ctx, run, after_terminal(ctx, run, step, StepStatus.FAILED))


def _after_retry_wait(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """The follow-ups of a failed attempt that will be retried, all idempotent: give its
    permits back, record the retry, and schedule the next attempt at its due time."""
    release_all(ctx, run, record.step)
    ended = record.ended_at if record.ended_at is not None else ctx.now()
    due = record.due_at if record.due_at is not None else ended
    ctx.store.put_event(
        TimelineEvent(
            run.run_id,
            ended,
            f"retry-{record.step}-{record.attempt}",  # deterministic: a replay overwrites
            "retry",
            step=record.step,
            attempt=record.attempt,
            detail={
                "error": record.error,
                "started_at": record.started_at,
                "ended_at": ended,
                "next_attempt": record.attempt + 1,
                "delay_seconds": (due - ended) // 1000,
            },
        )
    )
    delay = max(0, -(-(due - ctx.now()) // 1000))
    next_attempt = messages.Exec(run.run_id, record.step, record.attempt + 1)
    ctx.send_later(ctx.work_queue, next_attempt, delay)


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
    graph = ctx.definitions.get(run.workflow, run.version).graph
    release_all(ctx, run, step)  # the worker may have died before giving permits back
    if status.failure and fails_run(graph, step):
        message = f"{step}: {error or status.value}"
        ctx.store.mark_run_failing(run.run_id, message)
        run = with_failing(run, message)
    dispatch(ctx, run.run_id, after_terminal(ctx, run, step, status, output=output))


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
    return Claimed(run, propagation.claimed, 1)


def on_timer(ctx: Services, msg: messages.Timer) -> Claimed | None:
    """A sleep ended. A timer that fires twice or late finds the attempt already closed."""
    run = ctx.store.get_run(msg.run)
    if run.status.terminal:
        return None
    return finish_attempt(ctx, run, msg.step, msg.attempt, Outcome(True), inline=True)
