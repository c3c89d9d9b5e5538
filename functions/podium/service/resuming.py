"""Letting a paused run's steps go on: resume makes every step the pause held READY
again and sends its work message (``release_held``), and resumes the children its pause
paused (``resume_tree``). ``release_held`` lists the steps after its run write, and a
hold reads the run again after its step write (service/pausing.py): whichever writes
second sees the other's write.
"""

from __future__ import annotations

import contextlib

from podium.core.engine.actions import was_taken_over
from podium.core.engine.errors import RunConflict, RunNotFound
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.advance import complete_if_done
from podium.service.attempts import replay_terminal
from podium.service.context import Services
from podium.service.detached_runs import detached
from podium.service.pausing import RUN_PAUSES, move_tree, resume_step
from podium.service.run_events import publish_run_status


def release_held(ctx: Services, run: RunRecord) -> list[str]:
    """After a resume: every step held by the pause goes on (breakpoints stay paused),
    and a run whose last steps ended while it was paused completes now."""
    released: list[str] = []
    steps = ctx.store.list_steps(run.run_id)
    present = {s.step for s in steps}
    graph = ctx.definitions.get(run.workflow, run.version).graph
    taken_over = any(s.step in graph.roots and was_taken_over(s.reason) for s in steps)
    if taken_over or any(root not in present for root in graph.roots):
        # Paused before all its roots were made (a start that met the pause, or died
        # half way): its start is redone now (idempotent). A restart (or a restarted
        # iteration) has roots taken over before it starts, and only its start moves on
        # from them: one that met the pause left nothing held to release.
        ctx.event_queue.send(messages.encode(messages.Start(run.run_id)))
    # The sweeper looks at it soon: a message lost while it was paused is re-driven.
    ctx.store.set_run_check(run.run_id, ctx.now() + ctx.stale_ready_ms)
    if not steps:
        return released
    for record in steps:
        held = record.status is StepStatus.PAUSED and record.reason in RUN_PAUSES
        if held and resume_step(ctx, run.run_id, record):
            released.append(record.step)
    sinks = [s.step for s in steps if s.status.terminal and graph.is_sink(s.step)]
    if sinks and len(sinks) >= run.sinks_total:
        # As the sweeper does: a failed step whose worker died before flagging the run
        # flags it first, so the count below cannot complete a failed run as SUCCEEDED.
        for s in steps:
            if s.status.failure:
                replay_terminal(ctx, run, s.step, s.status, s.error, s.output)
        at = graph.sink_index
        counted = ctx.store.count_sinks(
            run.run_id, {s: at[s] for s in sinks}, sinks=run.sinks_total
        )
        complete_if_done(ctx, run.run_id, counted)
    return released


def resume_tree(ctx: Services, run: RunRecord) -> list[str]:
    """Resume the children a pause of their parent paused (recursively), each one's held
    steps going on as it resumes."""

    def resumed(child: RunRecord) -> bool:
        if paused_again(ctx, child):
            return False  # a pause raced this walk: the child and its tree stay paused
        # Said before its held steps go on: one that ends the run publishes the end,
        # which must come after the RUNNING (a subworkflow's run says it, an iteration not).
        publish_run_status(ctx, child, at=ctx.now())
        release_held(ctx, child)
        return True

    return move_tree(ctx, run, RunStatus.PAUSED, RunStatus.RUNNING, None, after=resumed)


def resume_if_parent_runs(ctx: Services, run: RunRecord) -> bool:
    """A paused child run whose parent runs: its parent's resume was cut short by a
    crash, or it was launched paused just as the parent resumed. The sweeper resumes it
    (and its own children). True when resumed."""
    if run.status is not RunStatus.PAUSED or run.parent_run is None:
        return False
    try:
        parent = ctx.store.get_run(run.parent_run)
    except RunNotFound:
        return False
    if parent.status is not RunStatus.RUNNING or detached(ctx, run, parent):
        return False  # a detached child is paused and resumed on its own
    try:
        resumed = ctx.store.transition_run(
            run.run_id,
            expected=frozenset({RunStatus.PAUSED}),
            to=RunStatus.RUNNING,
            changes={"reason": None},
        )
    except RunConflict:
        return False
    if paused_again(ctx, resumed):
        return False  # paused again since the read above
    publish_run_status(
        ctx, resumed, at=ctx.now()
    )  # before what its resume may end (as resume_tree)
    resume_tree(ctx, resumed)
    release_held(ctx, resumed)
    return True


def paused_again(ctx: Services, child: RunRecord) -> bool:
    """Whether a child run a resume has just moved PAUSED -> RUNNING has its parent
    paused (again): then it is put back PAUSED, with the parent's reason, and nothing of
    it is resumed. A pause racing the resume (the parent's own resume, or the sweeper's
    on a read of the parent from before the pause) may have walked the tree while the
    child was still PAUSED, and left it so. The resume writes the child, then reads the
    parent; the pause writes the parent, then moves its children with a conditional
    write: whichever goes second sees the other's write (as a hold and a resume do,
    service/pausing.py). One read; a write only when the race happened."""
    if child.parent_run is None:
        return False
    try:
        parent = ctx.store.get_run(child.parent_run)
    except RunNotFound:
        return False
    if parent.status is not RunStatus.PAUSED:
        return False
    # Back in the sweeper's index first, as a pause does (pausing.pause_tree).
    ctx.store.watch_run(child.run_id, ctx.now() + ctx.stale_ready_ms)
    with contextlib.suppress(RunConflict):  # the pause's walk got there, or it ended
        ctx.store.transition_run(
            child.run_id,
            expected=frozenset({RunStatus.RUNNING}),
            to=RunStatus.PAUSED,
            changes={"reason": parent.reason},
        )
    return True
