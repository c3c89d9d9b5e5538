"""Run identity: deterministic ids for child runs.

A loop iteration or a subworkflow is a child run whose id is derived from its parent
step and index, so a replayed launch finds the run it created (a conditional put) and
never creates a second one:

    <parent run id>.<step path with "/" as ".">.<index>

e.g. ``01KDV....per_day.3`` for iteration 3 of step ``per_day``, and
``01KDV....per_day.3.train.0`` below it. Children are found by id, so listing a step's
children in index order is a batch read of ids 0..n-1: no index item per child, no
extra write per iteration. The parent is recorded on the child's run item
(``parent_run``, ``parent_step``, ``parent_index``), not parsed back from the id (a step
path's "/" and the id's "." would be ambiguous).
"""

from __future__ import annotations

MAX_DEPTH = 10  # nesting of foreach, while and subworkflow (Maestro's limit)


def child_run_id(parent_run: str, step: str, index: int) -> str:
    if index < 0:
        raise ValueError("a child index is 0 or more")
    return f"{parent_run}.{step.replace('/', '.')}.{index}"
