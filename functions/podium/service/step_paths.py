"""A step path into loop iterations (``per_day/3/load``, ``outer/2/inner/5/work``)
checked against a run's definition and the iterations it launched, so that an action or
a restart naming one that does not exist says which part is wrong and what exists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from podium.core.engine.actions import IterationPath, taken_over_from
from podium.core.engine.errors import RunNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import body_workflow
from podium.core.engine.records import RunRecord, StepRecord
from podium.service.context import CompiledWorkflow, Services


def walk_iteration_path(
    ctx: Services,
    top: RunRecord,
    compiled: CompiledWorkflow,
    where: IterationPath,
    path: str,
    fail: Callable[[str], Exception],
    instead: str,
    *,
    taken_over: bool = False,
    into_subworkflows: bool = False,
) -> str:
    """The run of the innermost child run ``where`` goes through (where its step lives),
    after checking each part: the loop step exists and is a loop, the iteration ran, the step
    is in its body. ``fail(message)`` is raised otherwise; ``instead`` names what to do
    with a step that is not a loop (e.g. ``restart --from``). ``taken_over``: an
    iteration of a loop step a restart took over counts too, in the run where it ran
    (``iteration_run``): a restart restarts it from there, a step action acts on it
    there (ended, as its loop is: refused, naming the restart that reruns it).
    ``into_subworkflows`` (a restart's path, a step action's): a part may be a
    subworkflow step that waits for its child, written without an index
    (``call/load``): the child its step ran last (in the run a restart took the step
    over from, if it did), its steps named by the workflow version that child ran."""
    name, parent, into_child = top.workflow, top.run_id, False
    walked = ""  # the parts of the path before this one, each with its "/"
    for (loop, index), bare in zip(where.loops, _bare(where), strict=True):
        here = walked + loop  # the step this part names, as a path from the top run
        model = compiled.by_id.get(loop)
        if model is None:
            known = ", ".join(s.id for s in compiled.definition.steps)
            raise fail(f"{path!r}: no step {loop!r} in '{name}'; one of: {known}")
        into_child = into_subworkflows and model.type == "subworkflow"
        if into_child:
            compiled, name, parent = _child_of(ctx, parent, model, bare, here, path, fail, instead)
            walked = here + "/"
            continue
        if not compiled.is_loop(loop):
            kinds = "a loop (foreach or while)" + (" or a subworkflow" if into_subworkflows else "")
            raise fail(
                f"{path!r}: {loop!r} is a {model.type} step of '{name}', not {kinds};"
                f" {instead} {here} instead"
            )
        if bare:
            after = path[len(here) + 1 :].split("/", 1)[0]  # the word written there
            raise fail(
                f"{path!r}: {after!r} after {loop!r} must be an iteration index: {loop!r}"
                f" is a {model.type} loop of '{name}' ({here}/INDEX/STEP)"
            )
        if taken_over:
            found = iteration_run(ctx, parent, loop, index)
        else:
            found = _run_or_none(ctx, child_run_id(parent, loop, index))
        if found is None:
            record = ctx.store.get_step(parent, loop)
            home, record = loop_home(ctx, parent, record) if taken_over else (parent, record)
            launched = record.children_launched if record is not None else 0
            ran = f"iterations 0 to {launched - 1} ran" if launched else "no iteration ran"
            if home != parent:  # a loop a restart took over ran in the run it came from
                ran += f"; run {parent} took {loop!r} over from it in a restart"
            gone = taken_over_from(record.reason) if record is not None else None
            if taken_over and gone is not None:  # where it ran is gone, with its iterations
                raise fail(
                    f"{path!r}: iteration {index} of {loop!r} ran in run {gone}, which is"
                    f" gone (pruned, or expired), with its iterations; run {home} took"
                    f" {loop!r} over from it in a restart: restart from {here!r} to run"
                    " the loop again"
                )
            raise fail(
                f"{path!r}: iteration {index} of {loop!r} never ran in run {home} ({ran});"
                " name one that ran"
            )
        compiled, name, parent = compiled.body(loop), body_workflow(name, loop), found.run_id
        walked = f"{here}/{index}/"
    if where.step not in compiled.graph.predecessors:
        known = ", ".join(s.id for s in compiled.definition.steps)
        last = where.loops[-1][0]
        holder = f"the run of {last!r} ({name})" if into_child else f"the body of {last!r}"
        raise fail(f"{path!r}: {holder} has no step {where.step!r}; one of: {known}")
    return parent


def run_of_step_path(
    ctx: Services, run_id: str, path: str, fail: Callable[[str], Exception]
) -> tuple[str, str]:
    """A read's step (``?step=``): a step of run ``run_id``, or a path to one in a child
    run (``per_day/3/load``, ``call/load``), as the run that holds the step and its id,
    each part checked as a step action checks it (``walk_iteration_path``: an iteration
    a restart took over, in the run it ran in; ``fail(message)`` names the part that is
    not there). A plain step as it is, with no read; BadStepPath for a malformed path."""
    where = IterationPath.parse(path)
    if where is None:
        return run_id, path
    top = ctx.store.get_run(run_id)
    compiled = ctx.definitions.get(top.workflow, top.version)
    home = walk_iteration_path(
        ctx, top, compiled, where, path, fail, "name", taken_over=True, into_subworkflows=True
    )
    return home, where.step


def _bare(where: IterationPath) -> tuple[bool, ...]:
    """Which parts were written without an index (a path parsed before the field
    existed, or built in code, has none)."""
    return where.unindexed or tuple(False for _ in where.loops)


def _child_of(
    ctx: Services,
    parent: str,
    model: Any,
    bare: bool,
    here: str,
    path: str,
    fail: Callable[[str], Exception],
    instead: str,
) -> tuple[CompiledWorkflow, str, str]:
    """A subworkflow step's part of a path (``here``: the path to the step): (the
    workflow its child ran, that workflow's name, the child's run id)."""
    step = model.id
    if not bare:
        raise fail(
            f"{path!r}: {step!r} is a subworkflow step: name a step of its run without an"
            f" index, {here}/STEP"
        )
    home, child_id = old_child(ctx, parent, step)
    if not model.wait:  # named by its id, as any run of its own
        named = f" ({child_id})" if child_id is not None else ""
        raise fail(
            f"{path!r}: {step!r} does not wait for its run (wait: false), which is a run of"
            f" its own{named}: name that run ({instead} its steps there), not a path"
            f" through {here!r}"
        )
    if child_id is None:
        raise fail(f"{path!r}: {step!r} never started its run in run {home}; name a step it ran")
    child = _run_or_none(ctx, child_id)
    if child is None:
        raise fail(
            f"{path!r}: the run {step!r} started in run {home} is gone (pruned, or expired):"
            f" restart from {here!r} to run it again in full"
        )
    compiled = ctx.definitions.get(child.workflow, child.version)
    return compiled, child.workflow, child.run_id


def old_child(ctx: Services, run_id: str, step: str) -> tuple[str, str | None]:
    """The run where subworkflow step ``step`` of run ``run_id`` ran (the run itself, or
    for a step a restart took over the run it came from: ``loop_home``), and the id of
    the child its last attempt started there (None: it started none). What a restart
    path into the step names, and what a restart of the step restarts."""
    home, record = loop_home(ctx, run_id, ctx.store.get_step(run_id, step))
    if record is None or record.attempt < 1:
        return home, None
    return home, child_run_id(home, step, record.attempt - 1)


def iteration_run(ctx: Services, run_id: str, loop: str, index: int) -> RunRecord | None:
    """The run of iteration ``index`` of loop step ``loop`` of run ``run_id``, None when
    it never ran: the run's own, or for a loop step a restart took over, the one in the
    run where the loop ran (``loop_home``). No more reads when it is the run's own."""
    found = _run_or_none(ctx, child_run_id(run_id, loop, index))
    if found is not None:
        return found
    home, _ = loop_home(ctx, run_id, ctx.store.get_step(run_id, loop))
    return None if home == run_id else _run_or_none(ctx, child_run_id(home, loop, index))


def loop_home(
    ctx: Services, run_id: str, record: StepRecord | None
) -> tuple[str, StepRecord | None]:
    """The run where a loop step (``record``, read from run ``run_id``; None when it has
    none) ran its iterations, and the step's record there: the run itself, or for a loop
    step a restart took over (SUCCEEDED, ``taken_over_from``) the run it came from,
    followed back through restarts of restarts while that run's step is still there
    (one read per run on the way, none for a step that was not taken over)."""
    seen = {run_id}
    while record is not None:
        origin = taken_over_from(record.reason)
        if origin is None or origin in seen:
            break
        there = ctx.store.get_step(origin, record.step)
        if there is None:  # pruned, or expired: its iterations are gone with it
            break
        seen.add(origin)
        run_id, record = origin, there
    return run_id, record


def with_home_counts(
    ctx: Services, run_id: str, record: StepRecord, compiled: CompiledWorkflow
) -> StepRecord:
    """A loop step a restart took over, as views show it: with the iteration counts of
    the run its loop ran in (``loop_home``; the taken-over record counts none of its
    own: ``reuse.take_over`` copies no counters, so that the new run's bookkeeping
    never counts children it does not hold). Any other step as it is, with no read."""
    if (
        record.children_launched
        or taken_over_from(record.reason) is None
        or not compiled.is_loop(record.step)
    ):
        return record
    home, there = loop_home(ctx, run_id, record)
    if there is None or home == run_id:
        return record
    return replace(
        record,
        children_launched=there.children_launched,
        children_ok=there.children_ok,
        children_failed=there.children_failed,
        children_stopped=there.children_stopped,
    )


def _run_or_none(ctx: Services, run_id: str) -> RunRecord | None:
    try:
        return ctx.store.get_run(run_id)
    except RunNotFound:
        return None
