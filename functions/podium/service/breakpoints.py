"""Breakpoints: every attempt of a step pauses before it starts (PAUSED, reason
``paused at a breakpoint``) until it is resumed (``podium steps resume``: that attempt
passes) or the breakpoint is cleared (every step held by it resumes). A breakpoint on a
step of a loop's body holds it in every iteration, or in one (``iteration``: which
keys hold what is decided in core/engine/breakpoints.py).

A breakpoint belongs to a workflow and its step, whatever the version, and holds in the
runs already going. Workers read a workflow's breakpoints at most once a second per
process (a small item), so a breakpoint set on a stack takes effect within a second; in
the process that sets or clears it, at once. A worker that holds a step reads them
afresh after its write, so a clear that raced the hold still resumes the step.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean
from podium.core.engine.breakpoints import breakpoint_key, held_by, keys_to_clear, step_of_key
from podium.core.engine.compiled import CompiledWorkflow
from podium.core.engine.loops import MAX_ITERATIONS, body_workflow
from podium.core.engine.records import RunRecord
from podium.core.engine.status import StepStatus
from podium.service import messages
from podium.service.context import Services
from podium.service.pausing import BREAKPOINT, hold, passed_breakpoint, resume_step

CACHE_MS = 1000
_lock = threading.Lock()
# store -> workflow -> (read at, breakpoints); per process, like the definition cache.
# Keyed by the store object itself (weakly): a new store never sees an old one's entries.
_cache: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, frozenset[str]]]] = (
    weakref.WeakKeyDictionary()
)


def _entries(ctx: Services) -> dict[str, tuple[int, frozenset[str]]] | None:
    try:
        return _cache.setdefault(ctx.store, {})
    except TypeError:  # a store that cannot be weakly referenced: no caching
        return None


def breakpoints_of(ctx: Services, workflow: str) -> frozenset[str]:
    now = ctx.now()
    with _lock:
        entries = _entries(ctx)
        hit = entries.get(workflow) if entries is not None else None
    if hit is not None and 0 <= now - hit[0] < CACHE_MS:
        return hit[1]
    fresh = ctx.store.breakpoints(workflow)
    with _lock:
        if entries is not None:
            entries[workflow] = (now, fresh)
    return fresh


def _forget(ctx: Services, workflow: str) -> None:
    with _lock:
        entries = _entries(ctx)
        if entries is not None:
            entries.pop(workflow, None)


def has_breakpoint(ctx: Services, run: RunRecord, step: str) -> bool:
    """Does a breakpoint hold ``step`` in this run (a loop iteration's: at its index)?"""
    return held_by(breakpoints_of(ctx, run.workflow), step, run.parent_index)


def stops_at_breakpoint(ctx: Services, run: RunRecord, msg: messages.Exec) -> bool:
    """Before a claim: True when the step was held at its breakpoint (the caller stops).
    An attempt that passed its breakpoint already, or was resumed past it, goes on
    (service/pausing.passed_breakpoint says which: through a permit queue, a give-back
    and a run pause's hold too)."""
    if not has_breakpoint(ctx, run, msg.step):
        return False
    # A create message too: redelivered after a resume past the breakpoint, it finds the
    # step made (one read, only for a step with a breakpoint).
    if passed_breakpoint(ctx.store.get_step(run.run_id, msg.step), msg.attempt):
        return False
    if not run.watched:
        # A loop iteration holding at a breakpoint is found by a clear among the
        # watched runs (clear_breakpoints), and by the sweeper if a clear is cut short.
        ctx.store.watch_run(run.run_id, ctx.now() + ctx.stale_ready_ms)
    return hold(ctx, run, msg, BREAKPOINT)


@dataclass(frozen=True)
class BreakpointChange:
    workflow: str
    steps: list[str]  # the breakpoints set or cleared ("loop/step#2": iteration 2 only)
    resumed: list[str]  # clear: "run/step" of every held step it resumed

    def as_json(self) -> dict[str, object]:
        return {"workflow": self.workflow, "steps": self.steps, "resumed": self.resumed}


def list_breakpoints(ctx: Services, workflow: str) -> list[str]:
    """Every breakpoint of the workflow's versions (the newest 100), its loops' bodies
    included, named as they are set: ``step``, ``loop/step`` and ``loop/step#2``
    (iteration 2 only). WorkflowNotFound for an unknown workflow."""
    return sorted(
        prefix + key for _, prefix, keys in _every_breakpoint(ctx, workflow) for key in keys
    )


def _every_breakpoint(ctx: Services, workflow: str) -> list[tuple[str, str, list[str]]]:
    """(the workflow its runs run, ``loop/`` prefix, its breakpoint keys) for the
    workflow and each loop body of each of its versions, nested ones too."""
    found: list[tuple[str, str, list[str]]] = []

    def walk(compiled: CompiledWorkflow, name: str, prefix: str) -> None:
        found.append((name, prefix, sorted(ctx.store.breakpoints(name))))
        for step in compiled.definition.steps:
            if compiled.is_loop(step.id):
                walk(compiled.body(step.id), body_workflow(name, step.id), f"{prefix}{step.id}/")

    # Every version's loops (the newest 100): a run of an older version may be held at a
    # breakpoint on a step, or in a loop, the active version no longer has.
    versions = [v.version for v in ctx.store.list_workflow_versions(workflow)]
    walked: set[str] = set()
    for version in versions or [ctx.store.active_version(workflow)]:
        before = len(found)
        walk(ctx.definitions.get(workflow, version), workflow, "")
        fresh = [t for t in found[before:] if t[0] not in walked]
        walked.update(t[0] for t in fresh)
        found[before:] = fresh
    return found


def _target(ctx: Services, workflow: str, path: str) -> tuple[str, str]:
    """``step`` of the workflow, or ``loop/step`` of a loop's body (every iteration):
    the (workflow the runs holding it run, step id); DefinitionError naming the fix.
    The active version's steps first; then every stored version's (the newest 100): a
    breakpoint holds a run of an older version, still going, on a step (or in a loop)
    only that version has. Refused only when no version has it, with the active
    version's steps as the ones meant."""
    active = ctx.store.active_version(workflow)
    compiled = ctx.definitions.get(workflow, active)
    try:
        return _target_in(compiled, workflow, path)
    except DefinitionError:
        others = [v.version for v in ctx.store.list_workflow_versions(workflow)]
        others = [v for v in others if v != active]
        if not others:
            raise
    for version in others:
        try:
            return _target_in(ctx.definitions.get(workflow, version), workflow, path)
        except DefinitionError:
            continue
    # Refused as the active version refuses it (the names meant are its), said of all.
    return _target_in(compiled, workflow, path, scope=" in any of its versions")


def _target_in(
    compiled: CompiledWorkflow, workflow: str, path: str, scope: str = ""
) -> tuple[str, str]:
    """``_target`` in one version of the workflow (``scope``: what the refusal says it
    looked in, after the name)."""
    parts = path.split("/")
    name = workflow
    for loop in parts[:-1]:
        model = compiled.by_id.get(loop)
        if model is None or not getattr(model, "steps", None):
            loops = [s.id for s in compiled.definition.steps if compiled.is_loop(s.id)]
            which = "it has none"
            if loops:
                which = _listed("its loop steps", "loop steps", loops, workflow)
            raise DefinitionError(
                [
                    Issue(
                        "step",
                        f"{loop!r} is not a loop step of '{name}'{scope}"
                        f"{did_you_mean(loop, loops)}; write LOOP/STEP ({which})",
                    )
                ]
            )
        compiled, name = compiled.body(loop), body_workflow(name, loop)
    known = [s.id for s in compiled.definition.steps]
    if parts[-1] not in known:
        step = parts[-1]
        raise DefinitionError(
            [
                Issue(
                    "step",
                    f"'{name}' has no step {step!r}{scope}{did_you_mean(step, known)};"
                    f" {_listed('one of', 'steps', known, workflow)}",
                )
            ]
        )
    return name, parts[-1]


# A refusal lists the step ids it could have meant up to this many; a workflow of more
# is pointed to its definition (a list of hundreds helps no one).
LISTED_STEPS = 20


def _listed(label: str, noun: str, ids: list[str], workflow: str) -> str:
    """``one of: a, b`` (``label``), or where to read them (``noun``) when many."""
    if len(ids) <= LISTED_STEPS:
        return f"{label}: {', '.join(ids)}"
    return f"its {len(ids):,} {noun} are in its definition (podium workflows show {workflow})"


def _stored_target(ctx: Services, workflow: str, path: str) -> tuple[str, str] | None:
    """``_target`` of a breakpoint that is set, named by the path alone: one on a step
    (or in a loop) that the active version no longer has still holds the runs of the
    version that had it, and is cleared as it was set."""
    parts = path.split("/")
    name = workflow
    for loop in parts[:-1]:
        name = body_workflow(name, loop)
    if any(step_of_key(key) == parts[-1] for key in ctx.store.breakpoints(name)):
        return name, parts[-1]
    return None


def _iteration(step: str, iteration: int | None) -> None:
    """One iteration's breakpoint names a step of a loop's body (``loop/step``)."""
    if iteration is None:
        return
    if "/" not in step:
        raise DefinitionError(
            [
                Issue(
                    "iteration",
                    f"{step!r} is not a step of a loop's body; --iteration takes LOOP/STEP"
                    f" (or drop --iteration to break at {step!r} itself)",
                )
            ]
        )
    if not 0 <= iteration < MAX_ITERATIONS:  # a bigger one could never be hit
        raise DefinitionError(
            [Issue("iteration", f"an iteration index is 0 to {MAX_ITERATIONS - 1:,}")]
        )


def _shown(step: str, key: str) -> str:
    """A key as the caller named it: ``loop/work`` or ``loop/work#2``."""
    prefix = step.rsplit("/", 1)[0] + "/" if "/" in step else ""
    return prefix + key


def set_breakpoint(
    ctx: Services, workflow: str, step: str, iteration: int | None = None
) -> BreakpointChange:
    """A breakpoint on a step, or on a step of a loop's body (``loop/step``: it holds
    that step in every iteration, or with ``iteration`` only in that one; each held
    attempt is resumable alone)."""
    _iteration(step, iteration)
    name, step_id = _target(ctx, workflow, step)
    key = breakpoint_key(step_id, iteration)
    ctx.store.set_breakpoint(name, key, on=True)
    _forget(ctx, name)
    return BreakpointChange(workflow, [_shown(step, key)], [])


def clear_breakpoints(
    ctx: Services, workflow: str, step: str | None = None, iteration: int | None = None
) -> BreakpointChange:
    """Clear one step's breakpoints (with ``iteration``: only that iteration's), or every
    breakpoint ``list_breakpoints`` shows (its loops' bodies too), and resume every step
    they held that no breakpoint left holds (in loop iterations too)."""
    ctx.store.active_version(workflow)  # WorkflowNotFound for an unknown workflow
    if step is None:
        if iteration is not None:
            raise DefinitionError([Issue("iteration", "name the LOOP/STEP to clear")])
        targets = [t for t in _every_breakpoint(ctx, workflow) if t[2]]
    else:
        _iteration(step, iteration)
        name, step_id = _stored_target(ctx, workflow, step) or _target(ctx, workflow, step)
        keys = keys_to_clear(ctx.store.breakpoints(name), step_id, iteration)
        targets = [(name, _shown(step, ""), keys)]
    for name, _, keys in targets:
        for key in keys:
            ctx.store.set_breakpoint(name, key, on=False)
        _forget(ctx, name)
    cleared = {name: {step_of_key(k) for k in keys} for name, _, keys in targets}
    left = {name: ctx.store.breakpoints(name) for name in cleared}  # a racing set is kept
    resumed: list[str] = []
    for run_id in ctx.store.list_active_run_ids():
        run = ctx.store.get_run(run_id)
        if run.workflow not in cleared or run.status.terminal:
            continue
        for record in ctx.store.list_steps(run_id):
            if (
                record.status is StepStatus.PAUSED
                and record.reason == BREAKPOINT
                and record.step in cleared[run.workflow]
                and not held_by(left[run.workflow], record.step, run.parent_index)
                and resume_step(ctx, run_id, record)
            ):
                resumed.append(f"{run_id}/{record.step}")
    shown = [prefix + k for _, prefix, keys in targets for k in keys]
    return BreakpointChange(workflow, shown, resumed)
