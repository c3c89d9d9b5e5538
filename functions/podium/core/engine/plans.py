"""Pure plans of the step state machine: given what happened, the write to make.

The service applies a plan with one conditional write and its follow-ups; every planned
transition is one the table in status.py allows (checked here, so a plan that breaks
the table fails in tests, not in production).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from podium.core.engine.decide import failed_status
from podium.core.engine.records import StepRecord
from podium.core.engine.retry import (
    Retry,
    give_back_delay,
    give_backs_counter,
    plan_retry,
    without_give_backs,
)
from podium.core.engine.status import CLAIMABLE, RunStatus, StepStatus, require_transition
from podium.core.engine.step_error import StepError


@dataclass(frozen=True, slots=True)
class FinishPlan:
    """Close a RUNNING attempt: ``to`` with ``changes`` (one conditional write that
    expects RUNNING at the attempt). ``retry`` is set when the next attempt is scheduled
    (``to`` is RETRY_WAIT); ``error`` when the attempt failed."""

    to: StepStatus
    changes: dict[str, Any] = field(default_factory=dict)
    retry: Retry | None = None
    error: StepError | None = None


def plan_finish(
    spec: Any,
    run_id: str,
    step: str,
    attempt: int,
    now: int,
    *,
    output: Any = None,
    error: StepError | None = None,
    retry_counts: dict[str, int] | None = None,
    params: dict[str, Any] | None = None,
    log_ref: dict[str, Any] | None = None,
    retry: bool = True,
) -> FinishPlan:
    """How an attempt ends: SUCCEEDED with its (stored) output; or, for an error, the
    retry plan (RETRY_WAIT with its due time and counts) or the final status the failure
    mode gives (FAILED, FAILED_IGNORED; TIMED_OUT for a timeout). ``retry=False``: no
    retry is planned (the attempt's run has ended)."""
    base: dict[str, Any] = {"ended_at": now, "lease_until": None}
    if params is not None:
        base["params"] = params  # readable downstream as steps.<id>.params
    if log_ref is not None:
        base["log_ref"] = log_ref
    if error is None:
        plan = FinishPlan(
            StepStatus.SUCCEEDED, {**base, "output": output, "error": None, "error_type": None}
        )
    else:
        counts = without_give_backs(retry_counts or {})
        failed = {**base, "error": error.summary(), "error_type": error.type}
        key = f"{run_id}/{step}/{attempt}"
        again = plan_retry(spec.retriers, error, attempt, counts, key) if retry else None
        if again is not None:
            counts[again.counter] = counts.get(again.counter, 0) + 1
            changes = {
                **failed,
                "due_at": now + again.delay_seconds * 1000,
                "retry_counts": counts,
            }
            plan = FinishPlan(StepStatus.RETRY_WAIT, changes, again, error)
        else:
            plan = FinishPlan(failed_status(error, spec.failure_mode), failed, None, error)
    require_transition(StepStatus.RUNNING, plan.to)
    return plan


# --- claiming an attempt ---------------------------------------------------------------

# A waiting attempt's completion comes as a message at its due time; the sweeper asks
# its runtime only when that message is this late.
WAIT_GRACE_MS = 60_000


def lease_of(
    now: int,
    *,
    synchronous: bool,
    wait_ms: int,
    timeout_ms: int | None,
    worker_lease_ms: int,
) -> int:
    """How long a claimed attempt may go without a result before the sweeper reclaims
    it: a worker's lease for a synchronous runtime, the wait itself (plus a grace) for a
    waiting one, and never past the step's timeout."""
    lease = now + (worker_lease_ms if synchronous else wait_ms + WAIT_GRACE_MS)
    return lease if timeout_ms is None else min(lease, now + timeout_ms)


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """Claim attempt ``attempt`` of a step with one conditional write: create its item
    RUNNING (``create``: its first attempt, whose item nobody wrote yet), or move it
    from a claimable status at the previous attempt number to RUNNING."""

    attempt: int
    create: bool
    changes: dict[str, Any]
    expected: frozenset[StepStatus] = CLAIMABLE

    @property
    def previous_attempt(self) -> int:
        return self.attempt - 1


def plan_claim(attempt: int, *, create: bool, now: int, lease_until: int) -> ClaimPlan:
    changes: dict[str, Any] = {"started_at": now, "lease_until": lease_until}
    if create:
        changes["ready_at"] = now
    else:
        changes.update({"attempt": attempt, "ended_at": None})
    for status in CLAIMABLE:
        require_transition(status, StepStatus.RUNNING)
    return ClaimPlan(attempt, create, changes)


def claimed_item(run_id: str, step: str, plan: ClaimPlan) -> StepRecord:
    """The item a creating claim puts (its first attempt, RUNNING)."""
    assert plan.create and plan.attempt == 1
    return StepRecord(run_id, step, StepStatus.RUNNING, attempt=1, **plan.changes)


class LostClaim(Enum):
    """What a claim that lost its race (a duplicate or late message) still owes."""

    NOTHING = "nothing"
    REPLAY_TERMINAL = "replay_terminal"  # the step ended: its worker may have died
    # before propagating, so the (idempotent) follow-ups run again
    REDO_RETRY = "redo_retry"  # this attempt's failure was recorded, then its worker died
    RESUME_WAITING = "resume_waiting"  # this attempt is running: re-arm a waiting one's timers


def plan_lost_claim(
    current_status: StepStatus | None, current_attempt: int, attempt: int
) -> LostClaim:
    if current_status is None:
        return LostClaim.NOTHING
    if current_status.terminal:
        return LostClaim.REPLAY_TERMINAL
    if current_status is StepStatus.RETRY_WAIT and current_attempt == attempt:
        return LostClaim.REDO_RETRY
    if current_status is StepStatus.RUNNING and current_attempt == attempt:
        return LostClaim.RESUME_WAITING
    return LostClaim.NOTHING


def plan_give_back(attempt: int) -> dict[str, Any]:
    """A claim the worker will not start (too little time left in its invocation, or a
    start that did nothing: ``plan_start_give_back``): READY again at the previous
    attempt number. The attempt never started: nothing runs twice. The step's reason is
    left as it is: a resume's marker (the attempt passes its breakpoint) stays."""
    require_transition(StepStatus.RUNNING, StepStatus.READY)
    return {"attempt": attempt - 1, "started_at": None, "lease_until": None}


@dataclass(frozen=True, slots=True)
class StartGiveBack:
    """Give back a RUNNING attempt whose start did nothing (its look-up was throttled):
    READY again at the previous attempt number (``changes``, one conditional write that
    expects RUNNING at the attempt), and its claim message sent for ``due``."""

    changes: dict[str, Any]
    due: int
    given: int  # the attempt's give-backs, this one included


def plan_start_give_back(
    run_id: str, step: str, attempt: int, now: int, retry_counts: dict[str, int]
) -> StartGiveBack | None:
    """A start that did nothing, given back to be tried again after a backoff, as the
    same attempt: its number (so its key, which finds a start that did happen) is the
    same when it is claimed again. Its give-backs are counted on the item, and none
    spends a retry. None when the attempt has used all of its give-backs: it fails as
    the platform error it is (``plan_finish``).

    ``ready_at`` is the due time: the step is ready again from then, so the sweeper
    (which re-drives a READY step once its run looks stale) leaves it alone until its
    claim message had its chance. The count it keeps also says, when the attempt is
    claimed again, that it is the same attempt going on (``retry.was_given_back``): it
    passed its breakpoint and said RUNNING already, and a stop of the step while it is
    given back ends that attempt."""
    counter = give_backs_counter(attempt)
    given = retry_counts.get(counter, 0)
    delay = give_back_delay(given, f"{run_id}/{step}/{attempt}")
    if delay is None:
        return None
    due = now + delay * 1000
    changes = {
        **plan_give_back(attempt),
        "ready_at": due,
        "retry_counts": {**retry_counts, counter: given + 1},
    }
    return StartGiveBack(changes, due, given + 1)


# --- an attempt past its lease, and a run's end ------------------------------------------


class Reclaim(Enum):
    TIME_OUT = "time_out"  # past the step's deadline
    POLL = "poll"  # ask the runtime: a due timer says done, a vanished worker says so


def plan_reclaim(now: int, deadline: int) -> Reclaim:
    return Reclaim.TIME_OUT if now >= deadline else Reclaim.POLL


@dataclass(frozen=True, slots=True)
class RunEndPlan:
    """The follow-ups of a terminal run (all idempotent; ``lifecycle.run_ended`` applies
    them, then settles the run)."""

    cancel_unfinished: bool  # a run that did not succeed ends what is left open
    ended_check_at: int | None  # and looks again a lease later (a step created meanwhile)


def plan_run_end(status: RunStatus, ended_at: int, lease_ms: int) -> RunEndPlan:
    if status is RunStatus.SUCCEEDED:
        return RunEndPlan(False, None)
    return RunEndPlan(True, ended_at + lease_ms)


def ends_settled(status: RunStatus, *, iteration: bool, holds_permit_keys: bool) -> bool:
    """Whether a run's end can settle it in the same write: a loop's iteration run that
    succeeded, with no permit key to give back, owes nothing but its count on the loop
    step (``plan_run_end`` has nothing for it), so it ends and settles in one write,
    and is counted with the other ends of its Lambda batch (service/wakeups.py). That
    keeps an iteration at 2 writes beyond its steps, plus a share of a count. Every
    other end settles after its follow-ups (``lifecycle.run_ended``)."""
    plan = plan_run_end(status, 0, 0)
    return (
        iteration
        and not holds_permit_keys
        and not plan.cancel_unfinished
        and plan.ended_check_at is None
    )
