"""The run lifecycle's one seam: everything that follows a run's terminal write.

``run_ended`` runs every follow-up of a terminal run, each idempotent: give the strategy
slot back, let the next queued run in, and finally settle the run (it leaves the store's
active index). A crash anywhere in between leaves the run unsettled, so the next late
message for it, or the sweeper, runs ``run_ended`` again. Loops, subworkflows and the
events bus add their follow-ups here.
"""

from __future__ import annotations

import logging

from podium.core.engine.errors import RunConflict
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.service.admission import release_slot
from podium.service.context import Services

log = logging.getLogger("podium.lifecycle")
_ACTIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSED})


def run_ended(ctx: Services, run: RunRecord) -> None:
    """Redo every follow-up of a terminal run (all idempotent), then settle it."""
    if not run.status.terminal or run.settled:
        return
    release_slot(ctx, run)
    try:
        ctx.store.settle_run(run.run_id)
    except RunConflict:  # pragma: no cover - the run is terminal: cannot happen
        log.warning("settle of %s refused", run.run_id)


def stop_run(ctx: Services, run_id: str, reason: str) -> RunRecord | None:
    """RUNNING -> STOPPED: no new step starts (workers drop work of ended runs)."""
    try:
        stopped = ctx.store.transition_run(
            run_id,
            expected=_ACTIVE,
            to=RunStatus.STOPPED,
            changes={"ended_at": ctx.now(), "reason": reason},
        )
    except RunConflict as conflict:
        if conflict.current is not None:
            run_ended(ctx, conflict.current)  # a replay: redo what a crash may have lost
        return None
    run_ended(ctx, stopped)
    return stopped


def supersede(ctx: Services, workflow: str) -> None:
    """last_only: the newest run (by creation time, then id) replaces every other run of
    the workflow, queued or active.

    Every start makes this same pass over the same candidates, so concurrent starts agree
    on one winner whatever order they run in: an older start never stops a newer run, and
    a start that finds a newer run discards itself."""
    slots = ctx.store.run_slots()
    queued = slots.queued(workflow, 1000)
    holders = list(slots.state(workflow).holders)
    candidates = [(e.created_at, e.run_id) for e in queued]
    for holder in holders:
        candidates.append((ctx.store.get_run(holder).created_at, holder))
    if not candidates:
        return
    _, winner = max(candidates)
    now = ctx.now()
    for entry in queued:
        if entry.run_id != winner:
            slots.drop_queued(
                entry,
                RunStatus.DISCARDED,
                f"replaced by newer run {winner} (run_strategy last_only)",
                now,
            )
    for holder in holders:
        if holder != winner:
            stop_run(ctx, holder, f"stopped: replaced by newer run {winner} (last_only)")
