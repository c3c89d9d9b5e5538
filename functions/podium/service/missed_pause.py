"""A pause that lands while a loop or a subworkflow step is launching children.

A launch that read its run PAUSED (a running attempt goes on in a paused run: a loop's
next batch, a subworkflow step's launch redone after a crash) creates its children
PAUSED and starts none (``launches_paused``): the resume's walk moves them RUNNING and
starts them (service/resuming.py). One that read its run RUNNING creates its children
RUNNING; the pause walks the run's tree (service/pausing.py) and skips a child that does
not exist yet. So the launch looks again once its children exist, and pauses them
itself before it sends their work:

- the pause marks each running loop step before it lists the step's children
  (``StateStore.hold_children``), and the launch reads that mark back from the write
  that raises its launched mark (``mark_launched``): no read per launch; a mark found
  is checked by a read of the run (a pause undone since holds nothing);
- a step claimed after the pause listed the run's steps carries no mark: its first
  launch reads the run again (one read per loop step, not per iteration);
- a resume clears the mark, then reads the run again: a newer pause that landed
  before that clear gets its mark back (service/pausing.move_tree).

Whichever writes second sees the other's write: the walk lists children the launch has
created, or the launch reads the mark the walk wrote. A resume racing the launch's own
pause leaves a child paused under a running parent: the child is watched first, and the
sweeper resumes it (service/resuming.resume_if_parent_runs).

A launch cut short between its children's creation and its launched mark leaves them
RUNNING and unstarted: the launch redone in the run read paused pauses what it finds
running (a subworkflow's child: ``pause_found_running``; a loop's: loops.launch), and
the sweeper, about to start a child's roots, pauses it instead under a paused parent
(``pause_unstarted``).
"""

from __future__ import annotations

from collections.abc import Iterable

from podium.core.engine.errors import RunConflict, RunNotFound
from podium.core.engine.hold_marks import hold_mark
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.service.context import Services
from podium.service.detached_runs import followed_parent
from podium.service.pausing import pause_tree
from podium.service.run_events import publish_run_status


def launches_paused(run: RunRecord) -> bool:
    """Whether a launch creates its children PAUSED: it read its run (``run``) paused.
    They are watched (in the sweeper's index) and sent no start: the resume's walk moves
    them RUNNING and starts them (resuming.release_held: a run without its roots is
    started); one created after that walk is resumed by the sweeper
    (resuming.resume_if_parent_runs). The one rule of loops and subworkflow steps."""
    return run.status is RunStatus.PAUSED


def paused_meanwhile(
    ctx: Services, run: RunRecord, held: str | None, *, first_launch: bool
) -> str | None:
    """The reason of a pause the launch raced (its children were created RUNNING), or
    None. ``held``: what ``mark_launched`` returned."""
    if run.status is not RunStatus.RUNNING:
        return None  # read paused: its children were created paused (launches_paused)
    if held is None and not first_launch:
        return None  # the step was running when any pause walked it: it was marked
    # The run again, read after the children were created: a mark left by a pause
    # that a resume has undone since (a pause's walk slower than the resume, or a
    # resume's mark written back as a newer resume cleared it: pausing.move_tree) holds
    # nothing; one left by a pause that still holds is the run's. One read, only when
    # a mark is found (a pause raced) or at a loop step's first launch.
    try:
        return hold_mark(ctx.store.get_run(run.run_id))
    except RunNotFound:
        return None


def pause_launched(ctx: Services, child_ids: Iterable[str], reason: str) -> None:
    """Pause the children the launch created RUNNING (watched first, as a pause's walk
    does: a resume racing this is redone by the sweeper). One ended or paused already
    is left alone."""
    for child_id in child_ids:
        paused = _pause(ctx, child_id, reason)
        if paused is not None:
            publish_run_status(ctx, paused)  # a subworkflow's run says so (an iteration not)


def pause_found_running(ctx: Services, child_id: str, reason: str) -> bool:
    """A launch redone in a run it read paused found its child RUNNING: created by a
    pass that read the run running and died before it read the pause back (its launched
    mark), after the pause's walk had listed no child. Paused now, with its own children
    (as the walk pauses a child's tree: whoever pauses the child walks it), before
    anything more of it starts; it starts on the resume. A resume racing this leaves it
    paused under a running parent: watched first, the sweeper resumes it. True when it
    was paused here."""
    paused = _pause(ctx, child_id, reason)
    if paused is None:
        return False
    pause_tree(ctx, paused, reason)
    publish_run_status(ctx, paused)
    return True


def _pause(ctx: Services, child_id: str, reason: str) -> RunRecord | None:
    """RUNNING -> PAUSED, watched first; None when it was not RUNNING (or is gone)."""
    ctx.store.watch_run(child_id, ctx.now() + ctx.stale_ready_ms)
    try:
        return ctx.store.transition_run(
            child_id,
            expected=frozenset({RunStatus.RUNNING}),
            to=RunStatus.PAUSED,
            changes={"reason": reason},
        )
    except (RunConflict, RunNotFound):
        return None


def pause_unstarted(ctx: Services, run: RunRecord) -> bool:
    """The sweeper would redo the start of ``run``, a RUNNING child without (all) its
    roots: a launch cut short between the child's creation and its start (and its
    launched mark, which reads back a pause). Under a paused parent that does not let it
    go (a detached child is a run of its own) the child is paused instead, as its launch
    would have (``launches_paused``): the parent's resume starts it
    (resuming.release_held). One read of the parent. True when it was paused here."""
    parent = followed_parent(ctx, run)
    reason = hold_mark(parent) if parent is not None else None
    if reason is None:
        return False
    return pause_found_running(ctx, run.run_id, reason)
