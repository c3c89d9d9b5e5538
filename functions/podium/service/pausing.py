"""Holding steps while their run is paused, and letting them go on resume.

A paused run starts no new step: a work message that finds its run PAUSED parks the
step PAUSED (``hold``) instead of claiming it, and a worker about to continue in-process
with a successor it just claimed gives it back the same way (``hold_continuation``).
Running attempts are left alone and finish. Resume makes every held step READY again
and sends its work message (``release_held``); a retry or timer that came due meanwhile
runs then.

The race between a hold and a resume is closed from both sides: ``release_held`` lists
the steps after its run write, and ``hold`` reads the run again after its step write, so
whichever writes second sees the other's write (a held step is never left behind).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from podium.core.engine.breakpoints import held_by
from podium.core.engine.errors import StepConflict, StepExists
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import CLAIMABLE, RunStatus, StepStatus
from podium.service import messages
from podium.service.context import Services
from podium.service.permits import in_queue, wake_head

log = logging.getLogger("podium.pausing")

RUN_PAUSED = "held: the run is paused"
BREAKPOINT = "paused at a breakpoint"


def resumed_marker(attempt: int) -> str:
    """The reason a step resumed past its breakpoint carries: its next attempt passes."""
    return f"resumed past its breakpoint (attempt {attempt})"


def hold(ctx: Services, run: RunRecord, msg: messages.Exec, reason: str = RUN_PAUSED) -> bool:
    """The step of this work message waits PAUSED until its run resumes (or, with
    ``reason`` BREAKPOINT, until it is resumed or its breakpoint cleared). False when
    the message is not the step's next attempt (a duplicate, or a step that ended): the
    caller handles it as any lost claim."""
    now = ctx.now()
    record: StepRecord | None
    if msg.create:
        held = StepRecord(
            run.run_id,
            msg.step,
            StepStatus.PAUSED,
            attempt=msg.attempt - 1,
            ready_at=now,
            reason=reason,
        )
        try:
            ctx.store.create_step(held)
        except StepExists as exists:
            record = exists.current
        else:
            _after_hold(ctx, run.run_id, held)
            return True
    else:
        record = ctx.store.get_step(run.run_id, msg.step)
    if record is None or record.attempt != msg.attempt - 1:
        return False
    changes = {"reason": reason, "lease_until": None}
    if in_queue(record):
        # Queued for a permit: leave the queue, so the steps behind it are not blocked.
        key = record.waiting_key
        assert key is not None
        if not ctx.store.permits().abandon(record, StepStatus.PAUSED, changes):
            return False
        wake_head(ctx, key)
    elif record.status in CLAIMABLE:
        try:
            ctx.store.transition_step(
                run.run_id,
                msg.step,
                expected=frozenset({record.status}),
                attempt=record.attempt,
                to=StepStatus.PAUSED,
                changes=changes,
            )
        except StepConflict:
            return False
    else:
        return False
    held_record = ctx.store.get_step(run.run_id, msg.step)
    if held_record is not None:
        _after_hold(ctx, run.run_id, held_record)
    return True


def _after_hold(ctx: Services, run_id: str, held: StepRecord) -> None:
    """The run may have been resumed (or ended), or the breakpoint cleared, between our
    read and our write."""
    run = ctx.store.get_run(run_id)
    if held.reason == BREAKPOINT:
        if run.status.terminal:
            from podium.service.lifecycle import in_ended_run

            in_ended_run(ctx, run, held.step)
        elif not held_by(ctx.store.breakpoints(run.workflow), held.step, run.parent_index):
            resume_step(ctx, run_id, held)  # cleared meanwhile (a fresh read)
        return
    if run.status is RunStatus.RUNNING:
        resume_step(ctx, run_id, held)
    elif run.status.terminal:
        from podium.service.lifecycle import in_ended_run

        in_ended_run(ctx, run, held.step)


# How old a worker's view of its run's status may be when it continues in-process with a
# claimed successor: a pause reaches a chain of in-process steps within this time. Without
# it every step of a chain would read its run again (a read per step: +$0.12 per million
# steps on W1, past the $1.50 target).
STATUS_FRESH_MS = 1_000
_MAX_SEEN = 10_000
_seen: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, RunStatus]]] = (
    weakref.WeakKeyDictionary()
)
_seen_lock = threading.Lock()


def _run_status(ctx: Services, run_id: str) -> tuple[RunStatus, RunRecord | None]:
    """The run's status, read again only when this process's last read is older than
    STATUS_FRESH_MS (the record too when it was read now)."""
    now = ctx.now()
    with _seen_lock:
        try:
            seen = _seen.setdefault(ctx.store, {})
        except TypeError:  # a store that cannot be weakly referenced: always read
            seen = None
        hit = seen.get(run_id) if seen is not None else None
    if hit is not None and 0 <= now - hit[0] < STATUS_FRESH_MS:
        return hit[1], None
    run = ctx.store.get_run(run_id)
    if seen is not None:
        with _seen_lock:
            if len(seen) >= _MAX_SEEN:
                seen.clear()
            seen[run_id] = (now, run.status)
    return run.status, run


def hold_continuation(ctx: Services, current: RunRecord, step: str) -> bool:
    """A worker claimed a successor (RUNNING, attempt 1, not started) to perform it
    in-process: if the run was paused meanwhile, or the step has a breakpoint, give the
    claim back and hold the step. True when held (the worker must not start it)."""
    from podium.service.breakpoints import has_breakpoint

    run_id = current.run_id
    status, fresh = _run_status(ctx, run_id)
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
            changes={"attempt": 0, "started_at": None, "lease_until": None},
        )
    except StepConflict:
        return True  # the sweeper took it back meanwhile: not ours to start
    if not hold(ctx, run, messages.Exec(run_id, step, 1), reason):
        # Moved since: whoever moved it sends what it needs.
        log.info("continuation %s/%s moved while being held", run_id, step)
    return True


def resume_step(ctx: Services, run_id: str, record: StepRecord) -> bool:
    """PAUSED -> READY at the same attempt, and its work message sent; False if the step
    moved meanwhile (another resume got there first). A step held at a breakpoint is
    marked so that its next attempt passes the breakpoint."""
    marker = resumed_marker(record.attempt + 1) if record.reason == BREAKPOINT else None
    try:
        ctx.store.transition_step(
            run_id,
            record.step,
            expected=frozenset({StepStatus.PAUSED}),
            attempt=record.attempt,
            to=StepStatus.READY,
            changes={"reason": marker},
        )
    except StepConflict:
        return False
    ctx.work_queue.send(messages.encode(messages.Exec(run_id, record.step, record.attempt + 1)))
    return True


def release_held(ctx: Services, run: RunRecord) -> list[str]:
    """After a resume: every step held by the pause goes on (breakpoints stay paused),
    and a run whose last steps ended while it was paused completes now."""
    from podium.service.advance import complete_if_done

    released: list[str] = []
    steps = ctx.store.list_steps(run.run_id)
    present = {s.step for s in steps}
    graph = ctx.definitions.get(run.workflow, run.version).graph
    if any(root not in present for root in graph.roots):
        # Paused before all its roots were made (a start that met the pause, or died
        # half way): its start is redone now (idempotent).
        ctx.event_queue.send(messages.encode(messages.Start(run.run_id)))
    # The sweeper looks at it soon: a message lost while it was paused is re-driven.
    ctx.store.set_run_check(run.run_id, ctx.now() + ctx.stale_ready_ms)
    if not steps:
        return released
    for record in steps:
        held = record.status is StepStatus.PAUSED and record.reason == RUN_PAUSED
        if held and resume_step(ctx, run.run_id, record):
            released.append(record.step)
    sinks = [s.step for s in steps if s.status.terminal and graph.is_sink(s.step)]
    if sinks and len(sinks) >= run.sinks_total:
        # As the sweeper does: a failed step whose worker died before flagging the run
        # flags it first, so the count below cannot complete a failed run as SUCCEEDED.
        from podium.service.attempts import replay_terminal

        for s in steps:
            if s.status.failure:
                replay_terminal(ctx, run, s.step, s.status, s.error, s.output)
        counted = max(ctx.store.count_sink(run.run_id, s) for s in sinks)
        complete_if_done(ctx, run.run_id, counted)
    return released


def held_in_vain(ctx: Services, run: RunRecord, record: StepRecord) -> bool:
    """A PAUSED step of a RUNNING run that nothing holds any more: its run was resumed,
    or its breakpoint cleared, by an action a crash cut short (the sweeper resumes it)."""
    if record.reason == RUN_PAUSED:
        return run.status is RunStatus.RUNNING
    if record.reason == BREAKPOINT:
        return not held_by(ctx.store.breakpoints(run.workflow), record.step, run.parent_index)
    return False


def child_runs(ctx: Services, run: RunRecord) -> list[str]:
    """The child runs of the run's running loop and subworkflow steps (their ids are
    derived from the step and the index: core/engine/identity.py)."""
    from podium.core.engine.identity import child_run_id

    compiled = ctx.definitions.get(run.workflow, run.version)
    ids: list[str] = []
    for record in ctx.store.list_steps(run.run_id):
        spec = compiled.by_id.get(record.step)
        if record.status is not StepStatus.RUNNING or spec is None:
            continue
        if spec.type in ("foreach", "while"):
            # Not every child launched: those not counted yet (the ended ones are).
            running = ctx.store.running_children(run.run_id, record.step)
            ids.extend(child_run_id(run.run_id, record.step, i) for i in running)
        elif spec.type == "subworkflow" and record.attempt >= 1:
            ids.append(child_run_id(run.run_id, record.step, record.attempt - 1))
    return ids


def pause_tree(ctx: Services, run: RunRecord, reason: str) -> list[str]:
    """A paused run's loops and subworkflows pause too (their children, recursively):
    no step of the tree starts. Returns the child runs it paused."""
    from podium.core.engine.errors import RunConflict, RunNotFound

    paused: list[str] = []
    for child_id in child_runs(ctx, run):
        # A paused child may wait long: in the sweeper's index first, so that what a
        # crash leaves of its resume (or of its parent's end) is redone.
        ctx.store.watch_run(child_id, ctx.now() + ctx.stale_ready_ms)
        try:
            child = ctx.store.transition_run(
                child_id,
                expected=frozenset({RunStatus.RUNNING}),
                to=RunStatus.PAUSED,
                changes={"reason": reason},
            )
        except (RunConflict, RunNotFound):
            continue  # ended, not created, or paused already
        paused.append(child_id)
        paused.extend(pause_tree(ctx, child, reason))
    return paused


def resume_tree(ctx: Services, run: RunRecord) -> list[str]:
    """Resume the children a pause of their parent paused (recursively)."""
    from podium.core.engine.errors import RunConflict, RunNotFound

    resumed: list[str] = []
    for child_id in child_runs(ctx, run):
        try:
            child = ctx.store.transition_run(
                child_id,
                expected=frozenset({RunStatus.PAUSED}),
                to=RunStatus.RUNNING,
                changes={"reason": None},
            )
        except (RunConflict, RunNotFound):
            continue
        release_held(ctx, child)
        resumed.append(child_id)
        resumed.extend(resume_tree(ctx, child))
    return resumed


def resume_if_parent_runs(ctx: Services, run: RunRecord) -> bool:
    """A paused child run whose parent runs: its parent's resume was cut short by a
    crash, or it was launched paused just as the parent resumed. The sweeper resumes it
    (and its own children). True when resumed."""
    from podium.core.engine.errors import RunConflict, RunNotFound

    if run.status is not RunStatus.PAUSED or run.parent_run is None:
        return False
    try:
        parent = ctx.store.get_run(run.parent_run)
    except RunNotFound:
        return False
    if parent.status is not RunStatus.RUNNING:
        return False
    try:
        resumed = ctx.store.transition_run(
            run.run_id,
            expected=frozenset({RunStatus.PAUSED}),
            to=RunStatus.RUNNING,
            changes={"reason": None},
        )
    except RunConflict:
        return False
    resume_tree(ctx, resumed)
    release_held(ctx, resumed)
    return True


def stop_if_parent_ended(ctx: Services, run: RunRecord) -> bool:
    """A paused child run whose parent run has ended: the parent's end stops its children,
    but a child created paused in the instant the parent's loop raised its launched mark
    (a crash in between) is not among those it knows. The sweeper stops it (it would
    stay paused forever: nothing resumes the child of an ended run). True when stopped."""
    from podium.core.engine.errors import RunNotFound
    from podium.service.lifecycle import stop_run

    if run.status is not RunStatus.PAUSED or run.parent_run is None:
        return False
    try:
        parent = ctx.store.get_run(run.parent_run)
    except RunNotFound:
        return False
    if not parent.status.terminal:
        return False
    reason = f"stopped: its parent run {parent.run_id} ended {parent.status.value}"
    return stop_run(ctx, run.run_id, reason) is not None
