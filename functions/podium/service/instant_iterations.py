"""Foreach iterations that end the moment they start, written already ended.

An iteration whose body runs no user code and waits for nothing
(``CompiledWorkflow.ends_at_start``: noops only, plain edges, no timeout, outputs,
permits, signals or step events) would go through the queues only to be marked
SUCCEEDED: a work message and an invocation per root, a claim and an end per step, an
end and a count per run. The launching pass writes what those would have left instead:
each step's item, SUCCEEDED, then the child run, SUCCEEDED and settled, by the same
conditional puts (a replay creates nothing twice). The pass then counts them with one
write per count shard and wakes its loop once (service/wakeups.py), and the next pass
launches the next ones. What a reader sees afterwards is what the queues would have
left, without the sink counter a finished run no longer reads.

Not at once (the queues' way, service/loops.launch): a run paused (its children wait
too), a restart's iteration (it may take over the old one's steps), one a breakpoint
holds, one launched past its deadline (it times out), a while's (its update reads
the iteration).

Crashes: steps first, then the run, so an ended run always has its steps. A crash
before the count leaves settled, uncounted children: the pass's redo counts those it
finds (``count_children`` is exactly once), and the loop's poll counts any others
(service/loops.poll_children).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from podium.core.engine.breakpoints import held_by
from podium.core.engine.compiled import CompiledWorkflow
from podium.core.engine.errors import RunConflict, StepExists
from podium.core.engine.loops import outcome_of
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.service import messages
from podium.service.breakpoints import breakpoints_of
from podium.service.context import Services
from podium.service.wakeups import wake_loop

_ENDED = frozenset({StepStatus.SUCCEEDED})


@dataclass
class InstantLaunch:
    """One pass's iterations written already ended, and those a replay found so."""

    body: CompiledWorkflow
    breakpoints: frozenset[str]
    ended: dict[str, list[int]] = field(default_factory=dict)  # outcome -> indexes

    def takes(self, index: int) -> bool:
        """Iteration ``index`` ends at once unless a breakpoint holds one of its steps."""
        return not any(held_by(self.breakpoints, s, index) for s in self.body.by_id)


def instant_launch(
    ctx: Services,
    body_name: str,
    body: CompiledWorkflow,
    *,
    foreach: bool,
    paused: bool,
    deadline: int | None,
) -> InstantLaunch | None:
    """The pass's way to write iterations already ended, or None when none may be."""
    if not foreach or paused or not body.ends_at_start:
        return None
    if deadline is not None and ctx.now() >= deadline:
        return None  # they time out with their loop (the queues' way says so)
    return InstantLaunch(body, breakpoints_of(ctx, body_name))


def ended_child(child: RunRecord, now: int) -> RunRecord:
    """``child`` (as the queues' way would create it) as its end leaves it: SUCCEEDED,
    settled, out of every index."""
    return replace(
        child,
        status=RunStatus.SUCCEEDED,
        started_at=now,
        ended_at=now,
        settled=True,
        watched=True,
    )


def write_ended(ctx: Services, launch: InstantLaunch, child: RunRecord) -> RunRecord | None:
    """Write iteration ``child`` ended (its steps, then its run). None when it is
    ended: created now, or found ended (counted here when settled: this way's, after a
    crash before its count; a STOPPED fence gets back none of the steps this call
    wrote). A child found running or paused (an earlier pass's, the queues' way) is
    returned: its steps this call wrote stay (each would have ended so), and its start
    is the caller's."""
    now = child.ended_at
    assert now is not None and child.parent_index is not None
    made: list[str] = []
    for step in launch.body.by_id:
        try:
            ctx.store.create_step(_ended_step(child.run_id, step, now))
        except StepExists:
            continue
        made.append(step)
    try:
        ctx.store.create_run(child)
    except RunConflict as conflict:
        current = conflict.current
        if current is None or not current.status.terminal:
            return current
        if current.settled:
            launch.ended.setdefault(outcome_of(current.status), []).append(child.parent_index)
        if current.status is not RunStatus.SUCCEEDED:
            for step in made:  # a fence (its loop ended) ran none of them
                ctx.store.reopen_step(child.run_id, step, expected=_ENDED)
        return None
    launch.ended.setdefault(outcome_of(RunStatus.SUCCEEDED), []).append(child.parent_index)
    return None


def take_back_steps(ctx: Services, run: RunRecord, step: str, fence_id: str) -> None:
    """A fence just created (``fence_id``: "not started: its loop ended") of a foreach
    whose iterations are written ended: a pass cut short after writing that iteration's
    steps and before its run left them SUCCEEDED, and no pass comes back once the loop
    is closed. Deleted: a fence ran none of them. Nothing for the queues' way."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    if compiled.step(step).type != "foreach" or not compiled.body(step).ends_at_start:
        return
    for sid in compiled.body(step).by_id:
        ctx.store.reopen_step(fence_id, sid, expected=_ENDED)


def count_and_wake(ctx: Services, run_id: str, step: str, launch: InstantLaunch) -> None:
    """Count the pass's ended iterations (one write per count shard), then wake the loop
    for its next pass."""
    if not launch.ended:
        return
    for outcome, indexes in sorted(launch.ended.items()):
        ctx.store.count_children(run_id, step, indexes, outcome)
    event = {"kind": messages.CHILD_EVENT_KIND, "counted": True}
    wake_loop(ctx, messages.Done(run_id, step, 1, event))


def _ended_step(run_id: str, step: str, now: int) -> StepRecord:
    return StepRecord(
        run_id=run_id,
        step=step,
        status=StepStatus.SUCCEEDED,
        attempt=1,
        ready_at=now,
        started_at=now,
        ended_at=now,
    )
