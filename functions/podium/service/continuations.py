"""A worker about to continue in-process with a successor it just claimed: held
instead when its run was paused meanwhile or the step has a breakpoint (the claim is
given back and the step parked PAUSED, as service/pausing.py's ``hold`` does for a work
message), and ended unstarted when its run ended meanwhile.

The last case is a worker that read its run RUNNING before its step's work and wrote
the step's end after a stop (or a timeout) had ended the run but before the stop's
follow-ups reached the step: it goes on from the run as it read it and creates the
successor claimed. The run's status, read here anyway, says it ended; the successor is
ended as the stop's follow-ups end an unfinished step (``lifecycle.cancel_step``), so
no step starts in a run that ended.
"""

from __future__ import annotations

import logging

from podium.core.engine.errors import StepConflict
from podium.core.engine.plans import plan_give_back
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.breakpoints import has_breakpoint
from podium.service.context import Services
from podium.service.lifecycle import cancel_step
from podium.service.pausing import BREAKPOINT, RUN_PAUSED, hold
from podium.service.run_reads import recent_run

log = logging.getLogger("podium.pausing")


def _run_status(ctx: Services, run_id: str) -> tuple[RunStatus, RunRecord | None]:
    """The run's status as this process read it within STATUS_FRESH_MS (the record too
    when it was read now)."""
    run, read_now = recent_run(ctx, run_id)
    return run.status, (run if read_now else None)


def hold_continuation(ctx: Services, current: RunRecord, step: str) -> bool:
    """A worker claimed a successor (RUNNING, attempt 1, not started) to perform it
    in-process: if the run was paused meanwhile, or the step has a breakpoint, give the
    claim back and hold the step; if the run ended meanwhile, end the step. True when
    held or ended (the worker must not start it)."""
    run_id = current.run_id
    status, fresh = _run_status(ctx, run_id)
    if status.terminal:
        ended = fresh or ctx.store.get_run(run_id)
        claimed = ctx.store.get_step(run_id, step)
        if claimed is not None:  # ended by whoever moved it otherwise
            cancel_step(ctx, ended, claimed, f"run {ended.status.value}")
        return True
    paused = status is RunStatus.PAUSED
    if not paused and not has_breakpoint(ctx, current, step):
        return False
    run = fresh or ctx.store.get_run(run_id)
    if run.status is RunStatus.PAUSED:
        reason = RUN_PAUSED
    elif run.status is RunStatus.RUNNING and has_breakpoint(ctx, run, step):
        reason = BREAKPOINT
    else:
        return False
    try:
        ctx.store.transition_step(
            run_id,
            step,
            expected=frozenset({StepStatus.RUNNING}),
            attempt=1,
            to=StepStatus.READY,
            changes=plan_give_back(1),  # READY before attempt 1, as release_claim
        )
    except StepConflict:
        return True  # the sweeper took it back meanwhile: not ours to start
    if not hold(ctx, run, messages.Exec(run_id, step, 1), reason):
        # Moved since: whoever moved it sends what it needs.
        log.info("continuation %s/%s moved while being held", run_id, step)
    return True
