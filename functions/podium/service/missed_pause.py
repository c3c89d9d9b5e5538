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
  that raises its launched mark (``mark_launched``): no read per launch;
- a step claimed after the pause listed the run's steps carries no mark: its first
  launch reads the run again (one read per loop step, not per iteration).

Whichever writes second sees the other's write: the walk lists children the launch has
created, or the launch reads the mark the walk wrote. A resume racing the launch's own
pause leaves a child paused under a running parent: the child is watched first, and the
sweeper resumes it (service/resuming.resume_if_parent_runs).
"""

from __future__ import annotations

from collections.abc import Iterable

from podium.core.engine.errors import RunConflict, RunNotFound
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.service.context import Services
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
    if held is not None:
        return held
    if not first_launch:
        return None  # the step was running when any pause walked it: it was marked
    try:
        current = ctx.store.get_run(run.run_id)
    except RunNotFound:
        return None
    if current.status is RunStatus.PAUSED:
        return current.reason or "paused"
    return None


def pause_launched(ctx: Services, child_ids: Iterable[str], reason: str) -> None:
    """Pause the children the launch created RUNNING (watched first, as a pause's walk
    does: a resume racing this is redone by the sweeper). One ended or paused already
    is left alone."""
    for child_id in child_ids:
        ctx.store.watch_run(child_id, ctx.now() + ctx.stale_ready_ms)
        try:
            paused = ctx.store.transition_run(
                child_id,
                expected=frozenset({RunStatus.RUNNING}),
                to=RunStatus.PAUSED,
                changes={"reason": reason},
            )
        except (RunConflict, RunNotFound):
            continue
        publish_run_status(ctx, paused)  # a subworkflow's run says so (an iteration not)
