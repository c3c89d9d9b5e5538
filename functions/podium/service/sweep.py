"""The sweeper: a scheduled pass that re-drives work a crash or a lost message left behind.

Every write it makes is one the engine would have made, guarded the same way, so a
sweep racing a live worker is harmless. It reads only the runs whose check time has come
(the store's sparse index of due work, core/engine/checks.py), at most a bounded number
per pass, and re-drives steps only of runs that made no progress for ``stale_ready_ms``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from podium.core.dsl.models import Strategy
from podium.core.engine.checks import next_check
from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.admission import admit_next, release_slot
from podium.service.advance import complete_if_done, start_roots
from podium.service.attempts import replay_terminal
from podium.service.completions import reclaim
from podium.service.context import Services
from podium.service.deadlines import run_deadline, timeout_of
from podium.service.in_flight import is_running
from podium.service.lifecycle import on_run_deadline, run_ended, supersede
from podium.service.missed_pause import pause_unstarted
from podium.service.pausing import (
    held_in_vain,
    resume_step,
    stop_children_left,
    stop_if_parent_ended,
)
from podium.service.permits import wake_head
from podium.service.resuming import resume_if_parent_runs
from podium.service.signal_waiters import deadline_of as signal_deadline
from podium.service.signal_waits import past_deadline as signal_past_deadline
from podium.service.signal_waits import recheck as recheck_signals
from podium.service.signal_waits import timed_out as signal_timed_out
from podium.service.signal_waits import timed_out_wait

log = logging.getLogger("podium.sweep")


class DueRuns(Protocol):
    def list_due_run_ids(self, now: int, limit: int) -> list[str]: ...


@dataclass
class SweepReport:
    runs_checked: int = 0
    redriven: list[str] = field(default_factory=list)
    reclaimed: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # runs, workflows, keys whose check raised
    errors: list[Exception] = field(default_factory=list)  # what they raised, in order


# Runs looked at per pass: a pass stays well inside a Lambda's time however many runs
# are due; the rest are the next pass's (the index is in check-time order).
MAX_RUNS_PER_PASS = 500


def sweep(ctx: Services, due: DueRuns, *, max_runs: int = MAX_RUNS_PER_PASS) -> SweepReport:
    """One pass over the runs whose check time has come (the sparse index of due work,
    core/engine/checks.py): each is looked at and given its next check time."""
    report = SweepReport()
    now = ctx.now()
    workflows: set[str] = set()
    keys: set[str] = set()
    for run_id in due.list_due_run_ids(now, max_runs):
        report.runs_checked += 1
        with _isolated(ctx, f"run {run_id}", report):
            run = ctx.store.get_run(run_id)
            if run.parent_run is None:  # a child run holds no slot
                workflows.add(run.workflow)
            if run.status is RunStatus.RUNNING:
                keys |= _keys_of(ctx, run)
            _check_run(ctx, run, now, report)
            if not run.status.terminal:
                # A run that waits longer than the store keeps run items (DynamoDB's
                # TTL) would lose its first steps while it runs: the store renews them
                # once the run is that old, with the iterations its running loops will
                # read (settled, they are out of this index). After the check, which a
                # failure here must not hold up.
                ctx.store.keep_run_items(run)
    for workflow in sorted(workflows):
        with _isolated(ctx, f"workflow {workflow}", report):
            _reconcile_slots(ctx, workflow, report)
    for key in sorted(keys):
        with _isolated(ctx, f"key {key}", report):
            _reconcile_permits(ctx, key, now, report)
    return report


@contextmanager
def _isolated(ctx: Services, what: str, report: SweepReport) -> Iterator[None]:
    """One run's (workflow's, key's) check that raises (a bug, throttling past the
    retries, a payload it cannot read) must not keep the rest of the pass from being
    swept: it is logged and counted (``SweepCheckFailed``), and, not moved, stays due for
    the next pass."""
    try:
        yield
    except Exception as error:
        log.exception("sweep: the check of %s failed", what)
        ctx.metrics.count("SweepCheckFailed")
        report.failed.append(what)
        report.errors.append(error)


def _check_run(ctx: Services, run: RunRecord, now: int, report: SweepReport) -> None:
    """Redo what a crash or a lost message left of one run, then move its next check.
    A crash before the move leaves the run due: the next pass looks again."""
    run_id = run.run_id
    if run.status.terminal:
        # Ended, but a crash lost some of its follow-ups (slot, permits, next run); once
        # they are done the run settles and leaves the index.
        run_ended(ctx, run)
        report.completed.append(run_id)
        ctx.store.set_run_check(run_id, next_check(run, [], now, stale_ms=ctx.stale_ready_ms))
        return
    # Its own timeout's, or the one a child inherits from its parent step (a queued run
    # has not started: no deadline yet).
    deadline = None if run.status is RunStatus.QUEUED else run_deadline(ctx, run)
    if deadline is not None and now >= deadline and on_run_deadline(ctx, run_id) is not None:
        # Its deadline message came early (another clock), was lost or dead-lettered:
        # the sweeper, which moves the run's check to its deadline, ends it.
        report.completed.append(f"{run_id} (timed out)")
        return
    if run.status is RunStatus.QUEUED:
        ctx.store.set_run_check(run_id, next_check(run, [], now, stale_ms=ctx.stale_ready_ms))
        return
    if run.status is not RunStatus.RUNNING:
        if resume_if_parent_runs(ctx, run):  # a child its parent's resume left paused
            report.redriven.append(f"{run_id} (resumed with its parent)")
            return
        if stop_if_parent_ended(ctx, run):  # a paused child its parent's end missed
            report.completed.append(f"{run_id} (stopped: its parent ended)")
            return
        # Paused: its running attempts go on, and one whose lease passed (a lost worker,
        # a lost deadline timer) is reclaimed as in a running run; what would follow
        # it waits for the resume. Its check goes to the earliest lease or deadline.
        paused = ctx.store.list_steps(run_id)
        _reclaim_expired(ctx, run, paused, now, report)
        # What a crash left running of an ended loop's (or subworkflow's) children: no
        # walk of the pause reached them, and they would run on through it.
        for step in stop_children_left(ctx, run, paused):
            report.redriven.append(f"{run_id}/{step} (its children stopped)")
        for s in paused:
            # A wait for signals past its deadline ends (no timer of its own for the
            # 10-day default: the sweeper's look is its deadline): released by a signal
            # sent by then (its wake-up lost; the claim it sends waits for the resume,
            # as a wake-up's does), else TIMED_OUT. One whose deadline has not come is
            # not looked at here (its wake-ups are).
            if s.status is StepStatus.WAITING_FOR_SIGNALS and now >= signal_deadline(ctx, run, s):
                signal_past_deadline(ctx, run, s)
        after = next_check(run, paused, now, stale_ms=ctx.stale_ready_ms, deadline=deadline)
        ctx.store.set_run_check(run_id, after)
        return
    acted = len(report.redriven) + len(report.reclaimed) + len(report.completed)
    steps = ctx.store.list_steps(run_id)
    _redrive_steps(ctx, run, steps, now, report)
    acted = len(report.redriven) + len(report.reclaimed) + len(report.completed) > acted
    after = next_check(run, steps, now, stale_ms=ctx.stale_ready_ms, deadline=deadline, acted=acted)
    ctx.store.set_run_check(run_id, after)


def _reclaim_expired(
    ctx: Services, run: RunRecord, steps: list[StepRecord], now: int, report: SweepReport
) -> None:
    """Reclaim each RUNNING attempt whose lease passed: its worker is gone, or its
    deadline timer was lost (a lease never outlives the step's timeout)."""
    for s in steps:
        if s.status is StepStatus.RUNNING and s.lease_until is not None and s.lease_until < now:
            _reclaim_one(ctx, run, s, report)


def _reclaim_one(ctx: Services, run: RunRecord, s: StepRecord, report: SweepReport) -> None:
    past_timeout = _past_timeout(ctx, run, s)
    if is_running(ctx, run.run_id, s.step, s.attempt) and not past_timeout:
        return  # a local function a live process still runs (in_flight.py): not lost
    ctx.store.put_event(
        TimelineEvent(
            run.run_id,
            s.lease_until or 0,  # not the sweep's time: a repeated sweep overwrites
            f"reclaim-{s.step}-{s.attempt}",
            "reclaim",
            step=s.step,
            attempt=s.attempt,
            # Why, as a retry says its error (podium runs show prints it).
            detail={
                "lease_until": s.lease_until,
                "error": _why_reclaimed(ctx, run, s, past_timeout),
            },
        )
    )
    reclaim(ctx, run, s)
    report.reclaimed.append(f"{run.run_id}/{s.step}")


def _why_reclaimed(ctx: Services, run: RunRecord, s: StepRecord, past_timeout: bool) -> str:
    if past_timeout:
        return "its timeout passed and no result was recorded"
    spec = ctx.definitions.get(run.workflow, run.version).step(s.step)
    if ctx.runtime_for(spec).synchronous:
        return "its lease passed and no result was recorded: the worker running it was lost"
    # A waiting attempt (a sleep, a job polled, a callback): what would have ended it.
    return "its lease passed and no result was recorded: the timer or poll to end it was lost"


def _past_timeout(ctx: Services, run: RunRecord, s: StepRecord) -> bool:
    """Whether the attempt's own timeout passed (it times out, worker or not)."""
    timeout = timeout_of(ctx, ctx.definitions.get(run.workflow, run.version).step(s.step))
    started = s.started_at if s.started_at is not None else ctx.now()
    return timeout is not None and ctx.now() >= started + int(timeout * 1000)


def _redrive_steps(
    ctx: Services, run: RunRecord, steps: list[StepRecord], now: int, report: SweepReport
) -> None:
    run_id = run.run_id
    # Since its admission, for a run that waited QUEUED: its start message has had
    # stale_ready_ms to arrive (its admission set its check then: core/engine/checks.py).
    began = max(run.created_at, run.started_at or 0)
    last = max([began, *(t for s in steps for t in _times(s))], default=began)
    stale = now - last >= ctx.stale_ready_ms
    compiled = ctx.definitions.get(run.workflow, run.version)
    by_id = {s.step: s for s in steps}
    present = by_id.keys()
    if stale and any(root not in present for root in compiled.graph.roots):
        # Its start was lost (an admitter that died before sending it) or cut short (a
        # start that died half way, whose redelivery met the run paused and did nothing,
        # and a resume that died before redoing it). A start is idempotent: a root
        # already made is not made again, and its claim message again is a duplicate of
        # the same attempt. A child created by a launch cut short under a paused parent
        # is paused instead (missed_pause.pause_unstarted): its parent's resume starts it.
        if pause_unstarted(ctx, run):
            report.redriven.append(f"{run_id} (paused with its parent)")
            return
        start_roots(ctx, run_id)
        report.redriven.append(f"{run_id} (start)")
    if not steps:
        return
    for s in steps:
        ref = f"{run_id}/{s.step}"
        if s.status is StepStatus.RUNNING and s.lease_until is not None and s.lease_until < now:
            _reclaim_one(ctx, run, s, report)
        elif s.status is StepStatus.RUNNING and s.children_launched:
            # A loop (or subworkflow) waiting on its children: an iteration counted with
            # its end wakes it with a message sent after that write; one lost would
            # leave it waiting until its timeout. Its pass is idempotent: run one.
            ctx.event_queue.send(messages.encode(messages.PollStep(run_id, s.step, s.attempt)))
            report.redriven.append(f"{ref} (poll)")
        elif s.status is StepStatus.WAITING_FOR_SIGNALS:
            # The fallback for a lost wake-up, and the wait's deadline (the run is looked
            # at every minute once it has waited stale_ready_ms: core/engine/checks.py).
            recheck_signals(ctx, run, s)
        elif not stale:
            continue
        elif s.status is StepStatus.RETRY_WAIT and (s.due_at or 0) > now:
            continue  # its retry is not due yet: the delayed message is on its way
        elif s.status is StepStatus.PAUSED and held_in_vain(ctx, run, s):
            # Held by a pause or a breakpoint whose resume or clear a crash cut short.
            resume_step(ctx, run_id, s)
            report.redriven.append(ref)
        elif s.status.claimable:
            ctx.work_queue.send(messages.encode(messages.Exec(run_id, s.step, s.attempt + 1)))
            report.redriven.append(ref)
        elif s.status.terminal and any(
            succ not in present or by_id[succ].status is StepStatus.PENDING
            for succ in compiled.graph.successors[s.step]
        ):
            # Its follow-ups were cut short: a successor never created, or a join
            # whose arrival was counted but never resolved. Replaying is idempotent.
            if timed_out_wait(s):  # with the timeout's own: its event, its timeline item
                signal_timed_out(ctx, run, s, first=False)
            else:
                replay_terminal(
                    ctx,
                    run,
                    s.step,
                    s.status,
                    s.error,
                    s.output,
                    ended_at=s.ended_at,
                    reason=s.reason,
                )
            report.redriven.append(ref)
    if stale and all(s.status.terminal for s in steps):
        # A failed step whose worker died before flagging the run: flag it before the
        # sink count can complete the run as SUCCEEDED.
        for s in steps:
            if timed_out_wait(s):
                signal_timed_out(ctx, run, s, first=False)
            elif s.status.failure:
                replay_terminal(ctx, run, s.step, s.status, s.error, s.output, ended_at=s.ended_at)
        at = compiled.graph.sink_index
        sinks = {s.step: at[s.step] for s in steps if s.step in at}
        counted = ctx.store.count_sinks(run_id, sinks, sinks=run.sinks_total) if sinks else 0
        if complete_if_done(ctx, run_id, counted) is not None:
            report.completed.append(run_id)


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
    slots = ctx.store.run_slots()
    state = slots.state(workflow)
    for holder in state.holders:
        try:
            run = ctx.store.get_run(holder)
        except RunNotFound:
            # Its run is gone (deleted by hand, or expired while holding): nothing will
            # ever release the slot, so the queue behind it would wait forever.
            if slots.release(workflow, holder, block=False):
                report.reclaimed.append(f"{workflow} slot of {holder} (run gone)")
            continue
        if run.status.terminal:
            release_slot(ctx, run)
            report.reclaimed.append(f"{workflow} slot of {holder}")
    active = ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition
    if state.blocked_by is not None and active.strategy is not Strategy.STRICT_SEQUENTIAL:
        # A block left from before a switch to another strategy (no run was admitted
        # since, which clears it): it must not come back with strict_sequential.
        slots.unblock(workflow)
        report.reclaimed.append(f"{workflow} block of {state.blocked_by} (not strict)")
    if active.strategy is Strategy.LAST_ONLY and slots.queued(workflow, 1):
        # A start that died between queuing its run and its replacement pass left the
        # older run holding the slot (and the newer one behind it): the pass is redone.
        supersede(ctx, workflow)
    admitted = admit_next(ctx, workflow)
    report.redriven.extend(f"{workflow} admitted {run_id}" for run_id in admitted)


def _times(s: StepRecord) -> list[int]:
    return [t for t in (s.ready_at, s.started_at, s.ended_at) if t is not None]
