"""Holding steps while their run is paused, and pausing a run's tree.

A paused run starts no new step: a work message that finds its run PAUSED parks the
step PAUSED (``hold``) instead of claiming it, and a worker about to continue in-process
with a successor it just claimed gives it back the same way (service/continuations.py).
Running attempts are left alone and finish. Resume (service/resuming.py) makes every
held step READY again and sends its work message (``resume_step``); a retry or timer
that came due meanwhile runs then. A held step holds no place in a permit queue (it
leaves it as it is held: ``abandon``, or ``leave_if_stranded`` for a hold decided from
a read taken before it queued); resumed, it claims, or queues again at the back.

The race between a hold and a resume is closed from both sides: a resume lists the
steps after its run write, and ``hold`` reads the run again after its step write, so
whichever writes second sees the other's write (a held step is never left behind).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from podium.core.engine.breakpoints import held_by
from podium.core.engine.errors import RunConflict, RunNotFound, StepConflict, StepExists
from podium.core.engine.hold_marks import hold_mark
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.retry import was_given_back
from podium.core.engine.status import CLAIMABLE, RunStatus, StepStatus
from podium.service import messages
from podium.service.context import Services
from podium.service.detached_runs import detached
from podium.service.lifecycle import in_ended_run, stop_run, stops_its_children
from podium.service.permits import in_queue, leave_if_stranded, wake_head
from podium.service.run_events import publish_run_status
from podium.service.runtimes.base import Attempt

log = logging.getLogger("podium.pausing")

RUN_PAUSED = "held: the run is paused"
# Held by a run pause after its attempt had passed its breakpoint (``passed_breakpoint``):
# its release marks it resumed past it (a plain RUN_PAUSED hold replaced the evidence,
# and the step stopped at its breakpoint a second time).
RUN_PAUSED_PAST_BREAKPOINT = "held: the run is paused (resumed past its breakpoint)"
RUN_PAUSES = frozenset({RUN_PAUSED, RUN_PAUSED_PAST_BREAKPOINT})
BREAKPOINT = "paused at a breakpoint"


def resumed_marker(attempt: int) -> str:
    """The reason a step resumed past its breakpoint carries: its next attempt passes."""
    return f"resumed past its breakpoint (attempt {attempt})"


def passed_breakpoint(record: StepRecord | None, attempt: int) -> bool:
    """Whether attempt ``attempt`` of the step (``record``, as read before its claim) has
    passed its breakpoint already, or was resumed past it: it must not stop there again.
    The one rule, used before a claim (service/breakpoints.stops_at_breakpoint) and by a
    run pause's hold, which replaces the step's reason and so keeps the pass in its own
    (RUN_PAUSED_PAST_BREAKPOINT; its release writes the resume's marker again). Passed:
    resumed past it (the marker, for this attempt); or, the step still before this
    attempt, holding a place in a permit queue (it passed, or was resumed past it, before
    its claim queued, and the queue's reason replaced the marker), or given back (its
    start did nothing: service/attempts.give_back; the claim that passed is this
    attempt's). A new attempt (a retry) has none of these: it stops."""
    if record is None:
        return False
    if record.reason == resumed_marker(attempt):
        return True
    return record.attempt == attempt - 1 and (
        in_queue(record) or was_given_back(record.retry_counts, attempt)
    )


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
    if (
        reason == RUN_PAUSED
        and passed_breakpoint(record, msg.attempt)
        and _has_breakpoint(ctx, run, msg.step)
    ):
        # The pass outlives the reason it replaces. Only where a breakpoint is set: a step
        # merely queued for a permit passed no breakpoint, and its reason must not say so.
        reason = RUN_PAUSED_PAST_BREAKPOINT
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
            held = ctx.store.transition_step(
                run.run_id,
                msg.step,
                expected=frozenset({record.status}),
                attempt=record.attempt,
                to=StepStatus.PAUSED,
                changes=changes,
            )
        except StepConflict:
            return False
        # Read READY and not queued, it may have queued for a permit and been woken
        # since (READY again at the same attempt): held, it must not keep its place at
        # the head of the queue for as long as it is paused. Resumed, it queues again.
        leave_if_stranded(ctx, held)
    else:
        return False
    held_record = ctx.store.get_step(run.run_id, msg.step)
    if held_record is not None:
        _after_hold(ctx, run.run_id, held_record)
    return True


def _has_breakpoint(ctx: Services, run: RunRecord, step: str) -> bool:
    return held_by(ctx.store.breakpoints(run.workflow), step, run.parent_index)


def _after_hold(ctx: Services, run_id: str, held: StepRecord) -> None:
    """The run may have been resumed (or ended), or the breakpoint cleared, between our
    read and our write."""
    run = ctx.store.get_run(run_id)
    if held.reason == BREAKPOINT:
        if run.status.terminal:
            in_ended_run(ctx, run, held.step)
        elif not held_by(ctx.store.breakpoints(run.workflow), held.step, run.parent_index):
            resume_step(ctx, run_id, held)  # cleared meanwhile (a fresh read)
        return
    if run.status is RunStatus.RUNNING:
        resume_step(ctx, run_id, held)
    elif run.status.terminal:
        in_ended_run(ctx, run, held.step)


def resume_step(ctx: Services, run_id: str, record: StepRecord) -> bool:
    """PAUSED -> READY at the same attempt, and its work message sent; False if the step
    moved meanwhile (another resume got there first). A step held at a breakpoint is
    marked so that its next attempt passes the breakpoint."""
    past = record.reason in (BREAKPOINT, RUN_PAUSED_PAST_BREAKPOINT)
    marker = resumed_marker(record.attempt + 1) if past else None
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


def held_in_vain(ctx: Services, run: RunRecord, record: StepRecord) -> bool:
    """A PAUSED step of a RUNNING run that nothing holds any more: its run was resumed,
    or its breakpoint cleared, by an action a crash cut short (the sweeper resumes it)."""
    if record.reason in RUN_PAUSES:
        return run.status is RunStatus.RUNNING
    if record.reason == BREAKPOINT:
        return not held_by(ctx.store.breakpoints(run.workflow), record.step, run.parent_index)
    return False


def child_runs(
    ctx: Services,
    run: RunRecord,
    *,
    each_step: Callable[[str], None] | None = None,
    each_ended: Callable[[StepRecord], None] | None = None,
) -> list[str]:
    """The child runs of the run's running loop and subworkflow steps (each runtime
    knows its own: ``StepRuntime.child_runs``), ``each_step`` called with each such step
    before its children are listed, ``each_ended`` with each that ended other than
    SUCCEEDED after it started (its children are stopped, not listed). A ``wait: false``
    subworkflow step's child is left out: it is detached (service/detached_runs.py),
    paused and resumed on its own. Its step is RUNNING only between the child's creation
    and its own end, and a pause that came in between would pause the child, which
    nothing resumes once the step ended (the parent's resume follows running steps; the
    sweeper leaves a detached child alone)."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    ids: list[str] = []
    for record in ctx.store.list_steps(run.run_id):
        spec = compiled.by_id.get(record.step)
        if spec is None or _detaches(spec):
            continue
        runtime = ctx.runtime_for(spec)
        if not runtime.has_child_runs:
            continue
        if record.status is StepStatus.RUNNING:
            if each_step is not None:
                each_step(record.step)
            ids.extend(runtime.child_runs(ctx, run, record))
        elif each_ended is not None and stops_its_children(record):
            each_ended(record)
    return ids


def _detaches(spec: Any) -> bool:
    """A subworkflow step that does not wait for its child: the question ``detached``
    asks of a child's step, asked of the step."""
    return spec.type == "subworkflow" and not spec.wait


def pause_tree(ctx: Services, run: RunRecord, reason: str) -> list[str]:
    """A paused run's loops and subworkflows pause too (their children, recursively):
    no step of the tree starts. Returns the child runs it paused."""

    def watched(child_id: str) -> None:
        # A paused child may wait long: in the sweeper's index first, so that what a
        # crash leaves of its resume (or of its parent's end) is redone.
        ctx.store.watch_run(child_id, ctx.now() + ctx.stale_ready_ms)

    # A subworkflow's run announces its pause as any run does (an iteration none).
    after = partial(publish_run_status, ctx)
    return move_tree(
        ctx, run, RunStatus.RUNNING, RunStatus.PAUSED, reason, before=watched, after=after
    )


def move_tree(
    ctx: Services,
    run: RunRecord,
    source: RunStatus,
    to: RunStatus,
    reason: str | None,
    *,
    before: Callable[[str], None] | None = None,
    after: Callable[[RunRecord], bool | None] | None = None,
) -> list[str]:
    """Move the child runs of the run's running loop and subworkflow steps from
    ``source`` to ``to`` (with ``reason``), and theirs, recursively: ``before`` each
    move, ``after`` each that moved. A child ended, not created yet or moved already is
    skipped, and so is one ``after`` answers False for (a resume that put it back, its
    parent paused again meanwhile): its own children are left as they are. Returns the
    children moved (pause and resume walk the tree with it)."""
    moved: list[str] = []
    held = (reason or "paused") if to is RunStatus.PAUSED else None

    def mark(step: str) -> None:
        # A pause marks each loop step with its reason before it lists the step's
        # children, a resume clears the mark: a launch that creates children after the
        # listing reads the mark with its own and pauses them itself (loops.launch).
        ctx.store.hold_children(run.run_id, step, held)
        if held is None:
            # A newer pause may have landed since this resume's run write (a resume slow
            # to walk the tree), its mark before this clear: a launch that read the run
            # running would then find no mark and start its children under the paused
            # run. The run read after the clear sees that pause (it wrote the run before
            # its mark), and its mark is written back.
            again = _hold_mark_now(ctx, run.run_id)
            if again is not None:
                ctx.store.hold_children(run.run_id, step, again)

    # A loop or subworkflow step that ended other than SUCCEEDED stops its children
    # after its end write: a crash in between (a step stop cut short) left them running
    # under no running step, so no walk paused or resumed them and they went on through
    # a pause. The walk redoes that stop (idempotent).
    stop_left = partial(stop_children_of, ctx, run)
    for child_id in child_runs(ctx, run, each_step=mark, each_ended=stop_left):
        if before is not None:
            before(child_id)
        try:
            child = ctx.store.transition_run(
                child_id, expected=frozenset({source}), to=to, changes={"reason": reason}
            )
        except (RunConflict, RunNotFound):
            continue
        if after is not None and after(child) is False:
            continue
        moved.append(child_id)
        moved.extend(move_tree(ctx, child, source, to, reason, before=before, after=after))
    return moved


def _hold_mark_now(ctx: Services, run_id: str) -> str | None:
    try:
        return hold_mark(ctx.store.get_run(run_id))
    except RunNotFound:
        return None


def stop_children_left(ctx: Services, run: RunRecord, steps: list[StepRecord]) -> list[str]:
    """The sweeper's check of a paused run (``steps``: its steps, as read): the children
    still going of each loop or subworkflow step that ended other than SUCCEEDED are
    stopped, as its end would have (a crash between the end and their stop, and no walk
    since to redo it: a pause cut short before its walk, or one that walked before the
    end). Else they run on while the run is paused, until its resume or end. Reads each
    such step's children first (its runtime's ``child_runs``: one batch): nothing is
    written when none is left. Returns the steps whose children it stopped."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    stopped: list[str] = []
    for record in steps:
        spec = compiled.by_id.get(record.step)
        if spec is None or _detaches(spec) or not stops_its_children(record):
            continue  # a detached child is a run of its own: its step's end left it
        runtime = ctx.runtime_for(spec)
        if not runtime.has_child_runs:
            continue
        children = ctx.store.get_runs(runtime.child_runs(ctx, run, record))
        if any(not child.status.terminal for child in children.values()):
            stop_children_of(ctx, run, record)
            stopped.append(record.step)
    return stopped


def stop_children_of(ctx: Services, run: RunRecord, record: StepRecord) -> None:
    """Stop what still runs of the children of the ended loop or subworkflow step
    ``record`` (its runtime's ``terminate``, as its end did or would have done), for the
    reason it ended with."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = Attempt(run, spec, record.step, record.attempt, started, record=record)
    if record.status is StepStatus.STOPPED and record.reason:
        reason = record.reason  # the stop's own ("stopped by ...": an operator's)
    else:
        reason = f"its step {record.step} ended {record.status.value}"
    ctx.runtime_for(spec).terminate(ctx, attempt, reason)


def stop_if_parent_ended(ctx: Services, run: RunRecord) -> bool:
    """A paused child run whose parent run has ended: the parent's end stops its children,
    but a child created paused in the instant the parent's loop raised its launched mark
    (a crash in between) is not among those it knows. The sweeper stops it (it would
    stay paused forever: nothing resumes the child of an ended run). True when stopped."""
    if run.status is not RunStatus.PAUSED or run.parent_run is None:
        return False
    try:
        parent = ctx.store.get_run(run.parent_run)
    except RunNotFound:
        return False
    if not parent.status.terminal or detached(ctx, run, parent):
        return False  # a detached child outlives its parent (its step did not wait)
    reason = f"stopped: its parent run {parent.run_id} ended {parent.status.value}"
    return stop_run(ctx, run.run_id, reason) is not None
