"""A step path into loop iterations (``per_day/3/load``, ``outer/2/inner/5/work``)
checked against a run's definition and the iterations it launched, so that an action or
a restart naming one that does not exist says which part is wrong and what exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podium.core.engine.actions import IterationPath
from podium.core.engine.errors import RunNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import body_workflow
from podium.core.engine.records import RunRecord
from podium.service.context import CompiledWorkflow, Services


def walk_iteration_path(
    ctx: Services,
    top: RunRecord,
    compiled: CompiledWorkflow,
    where: IterationPath,
    path: str,
    fail: Callable[[str], Exception],
    instead: str,
) -> Any:
    """The compiled body of the innermost iteration ``where`` goes through, after
    checking each part: the loop step exists and is a loop, the iteration ran, the step
    is in its body. ``fail(message)`` is raised otherwise; ``instead`` names what to do
    with a step that is not a loop (e.g. ``restart --from``)."""
    name, parent = top.workflow, top.run_id
    for loop, index in where.loops:
        model = compiled.by_id.get(loop)
        if model is None:
            known = ", ".join(s.id for s in compiled.definition.steps)
            raise fail(f"{path!r}: no step {loop!r} in '{name}'; one of: {known}")
        if not compiled.is_loop(loop):
            raise fail(
                f"{path!r}: {loop!r} is a {model.type} step of '{name}', not a loop"
                f" (foreach or while); {instead} {loop} instead"
            )
        child = child_run_id(parent, loop, index)
        try:
            ctx.store.get_run(child)
        except RunNotFound:
            record = ctx.store.get_step(parent, loop)
            launched = record.children_launched if record is not None else 0
            ran = f"iterations 0 to {launched - 1} ran" if launched else "no iteration ran"
            raise fail(
                f"{path!r}: iteration {index} of {loop!r} never ran in run {parent} ({ran});"
                " name one that ran"
            ) from None
        compiled, name, parent = compiled.body(loop), body_workflow(name, loop), child
    if where.step not in compiled.graph.predecessors:
        known = ", ".join(s.id for s in compiled.definition.steps)
        raise fail(
            f"{path!r}: the body of {where.loops[-1][0]!r} has no step {where.step!r};"
            f" one of: {known}"
        )
    return compiled
