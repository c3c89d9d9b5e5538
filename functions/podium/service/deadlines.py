"""A waiting attempt's deadline: when it times out, and the timer that says so.

One place for the question, asked by the claim (arm it), a redelivered claim (arm it
again), a completion (withdraw it) and a cancelled step (withdraw it). A synchronous
attempt has no deadline timer: its runner bounds it (and its lease, as a safety net).
"""

from __future__ import annotations

from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.plans import lease_of
from podium.core.engine.records import RunRecord
from podium.service import messages
from podium.service.context import Services
from podium.service.detached_runs import detached
from podium.service.runtimes.base import Attempt

NEVER = 2**62


def timeout_of(ctx: Services, spec: Any) -> float | None:
    """The step's ``timeout``, or 10 days for a waiting runtime (None: unbounded here,
    a synchronous call being bounded by its runner)."""
    if spec.timeout is not None:
        return float(spec.timeout)
    return None if ctx.runtime_for(spec).synchronous else DEFAULT_WAIT_TIMEOUT_SECONDS


def run_deadline(ctx: Services, run: RunRecord) -> int | None:
    """When the run times out: its own deadline (its workflow's ``timeout`` counts from
    its start) or, for a child run, its ancestors' if earlier (a loop iteration or a
    subworkflow's run ends by its parent's deadline too); None when neither is set."""
    own = own_deadline(ctx, run)
    inherited = run.ancestor_deadline
    if own is None or (inherited is not None and inherited < own):
        return inherited
    return own


def inherited_from(ctx: Services, run: RunRecord) -> str:
    """Where a child run's inherited deadline comes from, for its error and refusals: the
    loop or subworkflow step above it passes down the earlier of its own ``timeout`` and
    its run's deadline (itself possibly inherited), and the child cannot tell which. A
    detached child (``wait: false``) gets its parent run's deadline alone."""
    if detached(ctx, run):
        return (
            f"the deadline of run {run.parent_run}, which started it from its step"
            f" '{run.parent_step}' (wait: false: that step's timeout does not bound it)"
        )
    return (
        f"the deadline of its parent step '{run.parent_step}' of run {run.parent_run}"
        " (that step's timeout, or its run's deadline if earlier)"
    )


def own_deadline(ctx: Services, run: RunRecord) -> int | None:
    """The run's own deadline: its workflow's ``timeout`` from its start (None: none)."""
    timeout = ctx.definitions.get(run.workflow, run.version).definition.timeout
    if timeout is None:
        return None
    started = run.started_at if run.started_at is not None else run.created_at
    return started + int(timeout * 1000)


def past_run_deadline(ctx: Services, run: RunRecord, at: int) -> bool:
    """Whether ``at`` (a completion's time, or now) is past the run's deadline, and that
    deadline has passed by now (a time judged later than it happened)."""
    deadline = run_deadline(ctx, run)
    return deadline is not None and at > deadline <= ctx.now()


def deadline_of(ctx: Services, attempt: Attempt) -> int:
    """When the attempt times out (the step's ``timeout`` counts from its start)."""
    timeout = timeout_of(ctx, attempt.spec)
    return attempt.started_at + int(timeout * 1000) if timeout is not None else NEVER


def step_deadline(attempt: Attempt) -> int | None:
    """The attempt's deadline when its step sets a ``timeout`` (None: it has none of its
    own; the 10-day default of a waiting step is the sweeper's lease, not a deadline
    its child runs inherit)."""
    timeout = attempt.spec.timeout
    return attempt.started_at + int(float(timeout) * 1000) if timeout is not None else None


def past_own_deadline(ctx: Services, attempt: Attempt) -> bool:
    """Whether the step's own ``timeout`` has passed (at the deadline is in time)."""
    ends = step_deadline(attempt)
    return ends is not None and ctx.now() > ends


def children_deadline(ctx: Services, attempt: Attempt) -> int | None:
    """The deadline a child run of this attempt (a loop's iteration, a subworkflow's run)
    inherits, as ``RunRecord.ancestor_deadline``: the earlier of its run's (its own or
    inherited) and the step's own ``timeout``."""
    ends = [d for d in (run_deadline(ctx, attempt.run), step_deadline(attempt)) if d is not None]
    return min(ends) if ends else None


def lease_until(ctx: Services, run: RunRecord, step: str, now: int) -> int:
    """The lease of an attempt of ``step`` claimed at ``now`` (core: ``lease_of``)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    runtime = ctx.runtime_for(spec)
    timeout = timeout_of(ctx, spec)
    return lease_of(
        now,
        synchronous=runtime.synchronous,
        wait_ms=0 if runtime.synchronous else runtime.wait_ms(spec),
        timeout_ms=None if timeout is None else int(timeout * 1000),
        worker_lease_ms=ctx.lease_ms,
    )


def _has_timer(ctx: Services, attempt: Attempt) -> bool:
    # The 10-day default is enforced by the lease (sweeper), not by a timer of its own.
    return attempt.spec.timeout is not None and not ctx.runtime_for(attempt.spec).synchronous


def _timer(attempt: Attempt) -> messages.Done:
    run_id = attempt.run.run_id
    return messages.Done(run_id, attempt.step, attempt.number, messages.DEADLINE_EVENT)


def arm_deadline(ctx: Services, attempt: Attempt) -> None:
    """Set the deadline timer of a waiting attempt (again is harmless: one timer)."""
    if _has_timer(ctx, attempt):
        ctx.at(_timer(attempt), deadline_of(ctx, attempt), queue="events")


def withdraw_deadline(ctx: Services, attempt: Attempt) -> None:
    """The attempt ended before its deadline: withdraw the timer (best effort)."""
    if _has_timer(ctx, attempt):
        ctx.cancel_at(_timer(attempt), deadline_of(ctx, attempt), set_ms=attempt.started_at)
