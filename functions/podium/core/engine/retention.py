"""Which finished runs a local home may delete (``podium runs prune``).

On AWS every item of a run carries an expiry and DynamoDB's TTL deletes it
(``run_retention_days``); the SQLite home has no TTL, so its runs stay until pruned.
A run is pruned with its whole tree, the loop iterations and subworkflow children whose
ids extend its own (core/engine/identity.py), never a part of one: a child without its
parent, or a parent whose iteration grid has holes, would be a run that no view can show
whole. A tree is kept while any of its runs is unfinished (a ``wait: false`` child can
outlive its parent), while its follow-ups are not all done (not settled), and while its
top run blocks its workflow's strict_sequential queue (``podium unblock`` names it).

Pure: the rule; the home's adapter reads the trees and deletes them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from podium.core.engine.records import RunRecord


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
    its top run ended before ``ended_before`` (epoch ms) and every run in it is finished
    and settled."""
    top = tree[0]
    for run in tree:
        if not run.status.terminal:
            return f"run {run.run_id} is {run.status.value}"
        if not run.settled:
            return f"run {run.run_id} has follow-ups to finish (the sweeper settles it)"
    if top.ended_at is None or top.ended_at >= ended_before:
        return "it ended too recently"
    if top.run_id in blocking:
        return f"it blocks the strict_sequential queue of '{top.workflow}' (podium unblock)"
    return None
