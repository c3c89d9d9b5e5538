"""Restart: a new run of the same workflow pointing back with ``restart_of``.

From ``incomplete`` (the default, Maestro's restart-from-incomplete and Step Functions'
redrive) the steps that succeeded, with everything above them, are taken over with their
outputs and not run again; from ``beginning`` everything runs; from a step, that step
and everything below it runs again (core/engine/actions.py decides which). From a step
of a loop iteration (``per_day/3/load``, nested ``outer/2/inner/5/work``) the loop step
reruns with everything below it; its iterations restart from incomplete, except the
named one, which restarts from the named step (the path is kept on the new run as
``restart_from`` and read by its iterations as they launch). A while's iteration
restarts only when it starts with the state the old one started with; after the one
that reran, the state may differ, and those iterations run in full
(service/reuse.py). A loop iteration's run is not restarted on its own, nor a run
twice (a backfill's ``--reprocess`` re-run of it counts: ``restarted_as``), nor a
waited-for subworkflow's run (its parent's restart restarts it from
incomplete): refusals name the restart that is allowed (``restart_place``,
``newest_restart``). The taken
over steps are written SUCCEEDED into the new run before it starts, and its start
propagates from them as from steps that just succeeded. Join sets and sink markers are
never copied: the new run counts its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.models import ParamMode
from podium.core.engine.actions import (
    ActionRefused,
    BadStepPath,
    IterationPath,
    RestartFrom,
    iteration_restart_hint,
    resolve_step_path,
    reuse_basis,
    reused_steps,
    subworkflow_restart_hint,
)
from podium.core.engine.backfill import rerun_ids
from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord

# Re-exported: the local prune and the simulation name a restart's ids from here.
from podium.core.engine.restart_ids import other_restart_run_id as other_restart_run_id
from podium.core.engine.restart_ids import restart_ids
from podium.core.engine.restart_ids import restart_run_id as restart_run_id
from podium.core.engine.status import StepStatus
from podium.service.bindings import MissingPayload, run_params
from podium.service.context import Services
from podium.service.detached_runs import detached
from podium.service.reuse import take_over
from podium.service.runs import start_run
from podium.service.step_paths import walk_iteration_path

ACTIVE = "active"


@dataclass(frozen=True)
class RestartRequest:
    start_from: str = RestartFrom.INCOMPLETE.value  # "incomplete", "beginning" or a step
    params: Mapping[str, Any] = field(default_factory=dict)  # over the old run's params
    # None: the version the old run ran (runs keep their version); a number or "active":
    # the explicit opt-in to another one.
    version: int | str | None = None


class AlreadyRestarted(ActionRefused):
    def __init__(self, old: RunRecord, new: RunRecord) -> None:
        super().__init__(
            "restart",
            f"run {old.run_id}",
            old.status.value,
            [],
            f"restart {new.run_id} instead",
            said=f"{old.status.value}, already restarted as {new.run_id} ({new.status.value})",
        )
        self.new_run = new.run_id
        self.new = new


# What a take-over writes (service/reuse.py): the status a leftover one has.
_TAKEN_OVER = frozenset({StepStatus.SUCCEEDED})


def restart(
    ctx: Services, old: RunRecord, request: RestartRequest, request_id: str | None = None
) -> RunRecord:
    """Refused when the run was restarted already (by another request), for a loop
    iteration's run (its workflow is its loop's body, not a workflow of its own) and for
    a waited-for subworkflow's run (a run of its own would be one its parent never sees:
    the parent's restart restarts it)."""
    place = restart_place(ctx, old)
    if place is not None:
        place = replace(place, top=newest_restart(ctx, place.top))
        raise ActionRefused("restart", f"run {old.run_id}", old.status.value, [], place.hint())
    new_id = _new_run_id(ctx, old)

    version = _version(ctx, old, request.version)
    compiled = ctx.definitions.get(old.workflow, version)
    graph = compiled.graph
    rerun_from: str | None = None
    # Kept on the new run (None: from incomplete): its loops read it as they launch
    # their iterations, which rerun in full or restart the old ones (service/reuse.py).
    restart_from: str | None = None
    if request.start_from == RestartFrom.BEGINNING.value:
        restart_from = RestartFrom.BEGINNING.value
        reuse: frozenset[str] = frozenset()
    else:
        if request.start_from != RestartFrom.INCOMPLETE.value:
            if _iteration_path(request.start_from) is not None:
                restart_from = request.start_from
                rerun_from = _loop_of(ctx, request.start_from, old, compiled)
            else:
                rerun_from = _step_of(request.start_from, old, graph.predecessors.keys())
                restart_from = rerun_from
        succeeded, decided = reuse_basis(ctx.store.list_steps(old.run_id))
        reuse = reused_steps(graph, succeeded, rerun_from, decided=decided)

    def take_over_reused() -> None:
        # Only once the new run's params passed its checks: a restart refused for a bad
        # -p leaves no taken-over step under the id the next restart will use. One cut
        # short after its take-over (its run's write throttled, its worker dead) left
        # its steps there, and no run yet: those this restart does not take over go,
        # or its run would find them done (one query, empty but for such a leftover).
        for left in ctx.store.list_steps(new_id):
            if left.step not in reuse:
                ctx.store.reopen_step(new_id, left.step, expected=_TAKEN_OVER)
        if reuse:
            now = ctx.now()
            for s in ctx.store.list_steps(old.run_id):
                if s.step in reuse:
                    take_over(ctx, new_id, s, old.run_id, now)

    carried = _old_params(ctx, old, compiled.definition.params, request.params)
    if version != old.version:
        # Another version may have dropped a param: carried over, it would refuse the
        # restart, and -p can override a param but not remove one.
        declared = compiled.definition.params
        carried = {k: v for k, v in carried.items() if k in declared}
    return start_run(
        ctx,
        old.workflow,
        {**carried, **request.params},
        version=version,
        trigger="restart",
        run_id=new_id,
        logical_date=old.logical_date,
        restart_of=old.run_id,
        # Trimmed: a run started before tags had to be (core/tags.py) is restarted with
        # the tags a filter finds, not refused for what its start was let through with.
        tags={k.strip(): v.strip() for k, v in old.tags.items()},
        restart_from=restart_from,
        before_create=take_over_reused,
        request_id=request_id,
    )


def is_iteration(run: RunRecord) -> bool:
    """A loop iteration's run (a subworkflow's run has a parent but no iteration)."""
    return run.iteration is not None and run.parent_run is not None


@dataclass(frozen=True)
class RestartPlace:
    """Where the restart of a run that is not restarted on its own is made: ``top``, the
    first run up its parents that a restart takes (a top run, or a detached child), and
    ``path`` from it down to this run: ``LOOP/INDEX`` for an iteration, the step's id for
    a waited-for subworkflow's run (``call``; nested: ``per_day/3/call``,
    ``call/inner/2``), a path a restart ``--from`` takes with a step after it.
    ``subworkflow``: this run is a subworkflow's (else an iteration)."""

    top: str
    path: str
    subworkflow: bool

    def hint(self) -> str:
        if self.subworkflow:
            return subworkflow_restart_hint(self.top, self.path)
        return iteration_restart_hint(self.top, self.path)


def restart_place(ctx: Services, run: RunRecord) -> RestartPlace | None:
    """A loop iteration's run and a waited-for subworkflow's run are never restarted on
    their own (an iteration's workflow is its loop's body; a subworkflow's run would be
    one its parent never sees): where their restart is made. None for a run restarted
    on its own (a top run; a detached child; a child whose parent is gone). One read per
    run on the way up, none for the parent of a run at depth 1 that is an iteration."""
    segments: list[str] = []
    current = run
    while current.parent_run is not None and current.parent_step is not None:
        step, parent_id = current.parent_step, current.parent_run
        if is_iteration(current):
            segments.append(f"{step}/{current.parent_index}")
            if current.depth <= 1:  # its parent is a top run: no read
                return _place(run, parent_id, segments)
            current = ctx.store.get_run(parent_id)
            continue
        try:
            parent = ctx.store.get_run(parent_id)
        except RunNotFound:
            break  # gone (pruned, expired): this one is restarted on its own
        if detached(ctx, current, parent):
            break  # wait: false: a run of its own
        segments.append(step)
        current = parent
    if current is run:
        return None
    return _place(run, current.run_id, segments)


def _place(run: RunRecord, top: str, segments: list[str]) -> RestartPlace:
    return RestartPlace(top, "/".join(reversed(segments)), not is_iteration(run))


def newest_restart(ctx: Services, run_id: str) -> str:
    """``run_id``, or the newest run of its chain of restarts (a run is restarted once:
    a hint names the one a restart takes). One batch read per run of the chain."""
    run = ctx.store.get_run(run_id)
    seen = {run.run_id}
    while (new := restarted_as(ctx, run)) is not None and new.run_id not in seen:
        seen.add(new.run_id)
        run = new
    return run.run_id


def restarted_as(ctx: Services, run: RunRecord) -> RunRecord | None:
    """The run that restarts ``run``, if any (a run is restarted at most once): an
    operator's restart, or a backfill's re-run of it (``podium backfill --reprocess``,
    which runs a scheduled time again as a restart of its latest run). Only an ended run
    that is not an iteration's is restarted, and its restart's id is derived from its
    own (``restart_ids``; a re-run's from it and its workflow's schedule,
    ``_rerun_ids``): one batch read, none for the others."""
    if not run.status.terminal or is_iteration(run):
        return None
    return _restart_of(run, ctx.store.get_runs(_successor_ids(ctx, run)))


def _successor_ids(ctx: Services, run: RunRecord) -> list[str]:
    """The ids of the runs that may restart ``run``: an operator's first."""
    return [*restart_ids(run.run_id), *_rerun_ids(ctx, run)]


def _rerun_ids(ctx: Services, run: RunRecord) -> list[str]:
    """The ids a backfill's re-run of ``run`` takes: one per cron or rate trigger of the
    version it ran (a backfill follows a trigger the active version has; a time's runs
    run a version that has it, but for a restart onto another one). The definition is
    cached: no read after the first."""
    defn = ctx.definitions.get(run.workflow, run.version).definition
    scheduled = [tid for tid, trigger in defn.trigger_map.items() if trigger.scheduled]
    return rerun_ids(run.workflow, scheduled, run.run_id) if scheduled else []


def _restart_of(run: RunRecord, found: Mapping[str, RunRecord]) -> RunRecord | None:
    return next((new for new in found.values() if new.restart_of == run.run_id), None)


def _new_run_id(ctx: Services, old: RunRecord) -> str:
    """AlreadyRestarted when the run has a restart (an operator's, or a backfill's re-run
    of it); a run of the id a restart takes that restarts another run (or none) makes
    the id the other one. One batch read."""
    found = ctx.store.get_runs(_successor_ids(ctx, old))
    existing = _restart_of(old, found)
    if existing is not None:
        raise AlreadyRestarted(old, existing)
    for new_id in restart_ids(old.run_id):
        if new_id not in found:
            return new_id
    raise ActionRefused(
        "restart",
        f"run {old.run_id}",
        old.status.value,
        [],
        f"the ids its restart could take ({restart_run_id(old.run_id)},"
        f" {other_restart_run_id(old.run_id)}) are other runs' ids",
    )


def _old_params(
    ctx: Services, old: RunRecord, declared: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """The old run's params, carried over (big ones are stored by reference). When they
    are gone (expired, pruned), nothing is carried: the restart goes ahead when the
    request gives every param a run may set, else it is refused naming them (a default
    in their place would run with other params without saying so)."""
    try:
        return run_params(ctx, old)
    except MissingPayload as gone:
        needed = sorted(
            name
            for name, spec in declared.items()
            if spec.mode is not ParamMode.CONSTANT and name not in given
        )
        if not needed:
            return {}
        raise DefinitionError(
            [
                Issue(
                    "body.params",
                    f"the params of run {old.run_id} are gone: {gone}; give every param"
                    f" in params (-p NAME=VALUE): {', '.join(needed)}",
                )
            ]
        ) from None


def _version(ctx: Services, old: RunRecord, wanted: int | str | None) -> int:
    if wanted is None:
        return old.version
    if wanted == ACTIVE:
        return ctx.store.active_version(old.workflow)
    ascii_number = isinstance(wanted, str) and wanted.isascii() and wanted.isdigit()
    if isinstance(wanted, int) or (ascii_number and len(wanted) <= 18):
        number = int(wanted)
        ctx.definitions.get(old.workflow, number)  # WorkflowNotFound names the version
        return number
    raise DefinitionError(
        [Issue("body.version", f"must be a version number or 'active', got {wanted!r}")]
    )


def _bad_from(message: str) -> DefinitionError:
    return DefinitionError([Issue("body.from", message)])


def _iteration_path(path: str) -> IterationPath | None:
    try:
        return IterationPath.parse(path)
    except BadStepPath as bad:
        raise _bad_from(f"{bad}; or 'incomplete' or 'beginning'") from None


def _loop_of(ctx: Services, path: str, old: RunRecord, compiled: Any) -> str:
    """A path into an iteration, checked against the definition the new run runs and
    the iterations the old run launched: the top run's loop step it goes through (which
    reruns, with everything below it). DefinitionError naming the path and the fix."""
    where = IterationPath.parse(path)
    assert where is not None
    walk_iteration_path(
        ctx,
        old,
        compiled,
        where,
        path,
        _bad_from,
        "restart --from",
        taken_over=True,
        into_subworkflows=True,
    )
    return where.loops[0][0]


def _step_of(path: str, old: RunRecord, steps: Any) -> str:
    where = resolve_step_path(old.run_id, path)
    if where.step not in steps:
        known = ", ".join(sorted(steps))
        raise DefinitionError(
            [
                Issue(
                    "body.from",
                    f"no step {where.step!r} in workflow '{old.workflow}'; use 'incomplete',"
                    f" 'beginning' or one of: {known}",
                )
            ]
        )
    return where.step
