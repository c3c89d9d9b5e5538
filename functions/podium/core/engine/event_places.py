"""Where a step is, as its events on the bus name it (docs/events.md).

A loop's iterations are child runs of an internal workflow named after the loop's body
(``etl/per_day``, core/engine/loops.py) whose ids are derived from their parent
(``<run>.per_day.3``, core/engine/identity.py). Neither is a name users know: a rule on
``detail.workflow: [etl]`` must match a step failing inside a loop of ``etl``, and the
step is found in ``podium runs show <run> --step per_day/3/load``. Both are derived here
from the iteration's id and body name alone (step ids hold neither "." nor "/", so the
id reads back unambiguously): no read of the parent runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.core.engine.loops import BODY_SEPARATOR


@dataclass(frozen=True, slots=True)
class Place:
    """``workflow``: the pushed workflow the step belongs to; ``top_run_id``: that
    workflow's run (the step's own run unless it is a loop iteration's); ``step_path``:
    the step as a path from that run (``per_day/3/load``; a step of that run: its id)."""

    workflow: str
    top_run_id: str
    step_path: str


def place_of(run_id: str, workflow: str, step: str) -> Place:
    """The place of ``step`` of run ``run_id`` (of ``workflow``, a loop body's name for
    an iteration). An id that does not read as its body's iteration (never written so:
    kept safe) is its own top run."""
    loops = workflow.split(BODY_SEPARATOR)
    here, parts = run_id, [step]
    for loop in reversed(loops[1:]):
        head, _, index = here.rpartition(".")
        parent, _, name = head.rpartition(".")
        if not index.isdigit() or name != loop or not parent:
            return Place(workflow, run_id, step)
        parts[:0] = [loop, index]
        here = parent
    return Place(loops[0], here, "/".join(parts))
