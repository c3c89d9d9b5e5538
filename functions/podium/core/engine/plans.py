"""Pure plans of the step state machine: given what happened, the write to make.

The service applies a plan with one conditional write and its follow-ups; every planned
transition is one the table in status.py allows (checked here, so a plan that breaks
the table fails in tests, not in production).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.core.engine.decide import failed_status
from podium.core.engine.retry import Retry, plan_retry
from podium.core.engine.status import StepStatus, require_transition
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
) -> FinishPlan:
    """How an attempt ends: SUCCEEDED with its (stored) output; or, for an error, the
    retry plan (RETRY_WAIT with its due time and counts) or the final status the failure
    mode gives (FAILED, FAILED_IGNORED; TIMED_OUT for a timeout)."""
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
        counts = dict(retry_counts or {})
        failed = {**base, "error": error.summary(), "error_type": error.type}
        retry = plan_retry(spec.retriers, error, attempt, counts, f"{run_id}/{step}/{attempt}")
        if retry is not None:
            counts[retry.counter] = counts.get(retry.counter, 0) + 1
            changes = {
                **failed,
                "due_at": now + retry.delay_seconds * 1000,
                "retry_counts": counts,
            }
            plan = FinishPlan(StepStatus.RETRY_WAIT, changes, retry, error)
        else:
            plan = FinishPlan(failed_status(error, spec.failure_mode), failed, None, error)
    require_transition(StepStatus.RUNNING, plan.to)
    return plan
