"""Which finished runs a local home may delete (``podium runs prune``).

On AWS every item of a run carries an expiry and DynamoDB's TTL deletes it
(``run_retention_days``); the SQLite home has no TTL, so its runs stay until pruned.
A run is pruned with its whole tree, the loop iterations and subworkflow children whose
ids extend its own (core/engine/identity.py), never a part of one: a child without its
parent, or a parent whose iteration grid has holes, would be a run that no view can show
whole. A tree is kept while any of its runs is unfinished (a ``wait: false`` child can
outlive its parent), while its follow-ups are not all done (not settled), and while its
top run blocks its workflow's strict_sequential queue (``podium unblock`` names it).
It is also kept while a run that restarts its top run, or restarts that restart (and so
on), is unfinished (``kept_for_restarts``): a restart reads the run it restarts as it
goes, each iteration its loops launch and each child its subworkflow steps start taking
over what succeeded there (service/reuse.py), and a loop step taken over by a restart of
a restart has its iterations in the first run (service/step_paths.py ``loop_home``).
Pruned under it, the restart would run again in full what had succeeded. A restart that
has ended reads it no more: the run then goes by its own age (a loop step the restart
took over keeps its status and output, without the iterations that ran in the run gone).

A run's own ``max_parallel_steps`` key (``own_permit_key``) is the one permit key that
belongs to one run: its record goes with the run (the service deletes it once the run
ended and gave its permits back; on AWS its items also expire with the run's, and a
prune deletes what is left of it on the local home). Shared keys stay.

On AWS a run that lasts longer than half the retention has its items stamped again by
the sweeper (adapters/dynamo_expiry.py), and with them the items of the children it
still needs (``children_kept_with``).

Pure: the rules; the home's adapter reads the trees and deletes them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence

from podium.core.engine.identity import child_run_id
from podium.core.engine.records import RunRecord
from podium.core.engine.status import StepStatus

OWN_PERMIT_KEY = "run:"
"""How a run's own ``max_parallel_steps`` key begins: ``run:<run_id>``."""


def own_permit_key(run_id: str) -> str:
    """The permit key of a run's own ``max_parallel_steps`` (core/engine/compiled.py
    ``permits_needed`` takes its permits)."""
    return f"{OWN_PERMIT_KEY}{run_id}"


def is_top_run(run_id: str) -> bool:
    """A run no other run started: a child's id is its parent's with ``.step.index``."""
    return "." not in run_id


def tree_bounds(root: str) -> tuple[str, str]:
    """The half-open range of run ids of ``root``'s descendants: every id that starts
    with ``root.`` (``/`` sorts right after ``.``), and no sibling such as ``root-2``."""
    return f"{root}.", f"{root}/"


def kept_because(
    tree: Sequence[RunRecord], ended_before: int, blocking: Collection[str] = ()
) -> str | None:
    """Why the tree whose top run is ``tree[0]`` must be kept, or None when it may go:
    every run in it is finished and settled, and ended before ``ended_before`` (epoch
    ms): its top run, and a ``wait: false`` child that outlived it."""
    top = tree[0]
    for run in tree:
        if not run.status.terminal:
            return f"run {run.run_id} is {run.status.value}"
        if not run.settled:
            return f"run {run.run_id} has follow-ups to finish (the sweeper settles it)"
    if top.ended_at is None or top.ended_at >= ended_before:
        return "it ended too recently"
    for run in tree[1:]:
        if run.ended_at is not None and run.ended_at >= ended_before:
            return f"its child run {run.run_id} ended too recently"
    if top.run_id in blocking:
        return f"it blocks the strict_sequential queue of '{top.workflow}' (podium unblock)"
    return None


def kept_for_restarts(restarts: Iterable[RunRecord]) -> str | None:
    """Why a tree must be kept for its restarts, or None: ``restarts`` are the runs that
    restart its top run, restart that restart, and so on, in that order (read as they
    are asked for: the first unfinished one decides, and those after it are not read).
    An unfinished restart still reads the runs it restarts (its loops' iterations, its
    subworkflow steps' children, a taken-over loop's iterations down the chain)."""
    first = None
    for run in restarts:
        first = first or run.run_id
        if run.status.terminal:
            continue
        if run.run_id == first:
            return f"its restart {run.run_id} is {run.status.value}"
        return f"its restart {first} was restarted in turn: {run.run_id} is {run.status.value}"
    return None


def children_kept_with(
    run_id: str, steps: Iterable[tuple[str, StepStatus | None, int]]
) -> Iterator[tuple[tuple[str, int], str]]:
    """The children an unended run still needs, whose items are renewed with its own
    (``StateStore.keep_run_items``): every child (``0..launched-1``) of each of its steps
    that has not ended, given as ``(step, status, launched)``. A loop reads its
    iterations' outputs only when it ends (index-aligned ``outputs``), so an iteration
    that ended early must outlive the loop however long the loop runs. Yields each
    child's place ``(step, index)`` and run id, in place order (a renewal spread over
    several checks resumes after a place).

    Not the children of a step that ended: its output already holds what it read of
    them. Not deeper: a child still running is in the sweeper's index (its loop's poll
    puts it there: service/loops.py) and renews its own items and its own children's; a
    child that ended holds its children's outputs in its own step items."""
    for step, status, launched in sorted(steps, key=lambda s: s[0]):
        if status is None or status.terminal:
            continue
        for index in range(launched):
            yield (step, index), child_run_id(run_id, step, index)
