"""The sweeper: a scheduled pass that re-drives work a crash or a lost message left behind.

Every write it makes is one the engine would have made, guarded the same way, so a
sweep racing a live worker is harmless. It looks only at active runs (a sparse index)
and only at runs that made no progress for ``stale_ready_ms``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.admission import admit_next, release_slot
from podium.service.advance import complete_if_done, start_roots
from podium.service.attempts import replay_terminal
from podium.service.completions import reclaim
from podium.service.context import Services
from podium.service.lifecycle import run_ended
from podium.service.permits import wake_head

log = logging.getLogger("podium.sweep")


class ActiveRuns(Protocol):
    def list_active_run_ids(self) -> list[str]: ...


@dataclass
class SweepReport:
    runs_checked: int = 0
    redriven: list[str] = field(default_factory=list)
    reclaimed: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)


# Runs looked at per pass: a pass stays well inside a Lambda's time however many runs
# are active; with more, successive passes take successive windows (see _window).
MAX_RUNS_PER_PASS = 500
PASS_INTERVAL_MS = 60_000  # the schedule of handlers.sweep


def _window(run_ids: list[str], now: int, size: int) -> list[str]:
    """The runs this pass looks at: all of them when they fit, else a window that moves
    on by ``size`` every pass interval (stateless: derived from the clock), so every
    active run is looked at every ceil(n / size) passes."""
    if len(run_ids) <= size:
        return run_ids
    start = (now // PASS_INTERVAL_MS * size) % len(run_ids)
    rotated = run_ids[start:] + run_ids[:start]
    return rotated[:size]


def sweep(
    ctx: Services, active: ActiveRuns, *, max_runs: int = MAX_RUNS_PER_PASS
) -> SweepReport:
    report = SweepReport()
    now = ctx.now()
    workflows: set[str] = set()
    keys: set[str] = set()
    for run_id in _window(active.list_active_run_ids(), now, max_runs):
        report.runs_checked += 1
        run = ctx.store.get_run(run_id)
        workflows.add(run.workflow)
        if run.status.terminal:
            # Ended, but a crash lost some of its follow-ups (slot, permits, next run).
            run_ended(ctx, run)
            report.completed.append(run_id)
            continue
        if run.status is not RunStatus.RUNNING:
            continue
        keys |= _keys_of(ctx, run)
        steps = ctx.store.list_steps(run_id)
        last = max([run.created_at, *(t for s in steps for t in _times(s))], default=run.created_at)
        stale = now - last >= ctx.stale_ready_ms
        if not steps:
            if stale:
                start_roots(ctx, run_id)
                report.redriven.append(f"{run_id} (start)")
            continue
        compiled = ctx.definitions.get(run.workflow, run.version)
        by_id = {s.step: s for s in steps}
        present = by_id.keys()
        for s in steps:
            ref = f"{run_id}/{s.step}"
            if s.status is StepStatus.RUNNING and s.lease_until is not None and s.lease_until < now:
                ctx.store.put_event(
                    TimelineEvent(
                        run_id,
                        s.lease_until,  # not the sweep's time: a repeated sweep overwrites
                        f"reclaim-{s.step}-{s.attempt}",
                        "reclaim",
                        step=s.step,
                        attempt=s.attempt,
                        detail={"lease_until": s.lease_until},
                    )
                )
                reclaim(ctx, run, s)
                report.reclaimed.append(ref)
            elif not stale:
                continue
            elif s.status is StepStatus.RETRY_WAIT and (s.due_at or 0) > now:
                continue  # its retry is not due yet: the delayed message is on its way
            elif s.status.claimable:
                ctx.work_queue.send(messages.encode(messages.Exec(run_id, s.step, s.attempt + 1)))
                report.redriven.append(ref)
            elif s.status.terminal and any(
                succ not in present or by_id[succ].status is StepStatus.PENDING
                for succ in compiled.graph.successors[s.step]
            ):
                # Its follow-ups were cut short: a successor never created, or a join
                # whose arrival was counted but never resolved. Replaying is idempotent.
                replay_terminal(
                    ctx, run, s.step, s.status, s.error, s.output, ended_at=s.ended_at
                )
                report.redriven.append(ref)
        if stale and all(s.status.terminal for s in steps):
            # A failed step whose worker died before flagging the run: flag it before the
            # sink count can complete the run as SUCCEEDED.
            for s in steps:
                if s.status.failure:
                    replay_terminal(
                    ctx, run, s.step, s.status, s.error, s.output, ended_at=s.ended_at
                )
            run = ctx.store.get_run(run_id)
            sinks = [s.step for s in steps if compiled.graph.is_sink(s.step)]
            counted = max((ctx.store.count_sink(run_id, s) for s in sinks), default=0)
            if complete_if_done(ctx, run_id, counted) is not None:
                report.completed.append(run_id)
    for workflow in sorted(workflows):
        _reconcile_slots(ctx, workflow, report)
    for key in sorted(keys):
        _reconcile_permits(ctx, key, now, report)
    return report


def _keys_of(ctx: Services, run: RunRecord) -> set[str]:
    return ctx.definitions.get(run.workflow, run.version).permit_keys(run.run_id)


def _reconcile_permits(ctx: Services, key: str, now: int, report: SweepReport) -> None:
    """A permit whose lease expired and whose holder step is no longer running (its
    release was lost) is given back; a queue whose wake-up was lost is woken."""
    permits = ctx.store.permits()
    state = permits.state(key)
    for holder, lease in state.holders.items():
        if lease >= now:
            continue
        run_id, _, step = holder.partition("/")
        record = ctx.store.get_step(run_id, step)
        if record is None or record.status is not StepStatus.RUNNING:
            permits.release(key, holder)
            report.reclaimed.append(f"permit {key} of {holder}")
    if state.waiting:
        woken = wake_head(ctx, key)
        if woken:
            report.redriven.append(f"woke {woken} for {key}")


def _reconcile_slots(ctx: Services, workflow: str, report: SweepReport) -> None:
    """A slot whose holder run has ended (its release was lost with a crash) is given
    back, and queued runs get another chance at free slots."""
    for holder in ctx.store.run_slots().state(workflow).holders:
        try:
            run = ctx.store.get_run(holder)
        except RunNotFound:
            continue
        if run.status.terminal:
            release_slot(ctx, run)
            report.reclaimed.append(f"{workflow} slot of {holder}")
    admitted = admit_next(ctx, workflow)
    report.redriven.extend(f"{workflow} admitted {run_id}" for run_id in admitted)


def _times(s: StepRecord) -> list[int]:
    return [t for t in (s.ready_at, s.started_at, s.ended_at) if t is not None]
