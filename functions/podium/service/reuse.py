"""Steps a restarted run takes over from the run it restarts, written SUCCEEDED with
their outputs before they would run (service/restart.py decides which for the run
itself; a restarted run's loops ask ``restarted_child`` for each iteration they launch,
its subworkflow steps ``restarted_subworkflow`` for the child run they start).
"""

from __future__ import annotations

import contextlib
from typing import Any

from podium.core.engine.actions import (
    rerun_whole,
    restart_from_in,
    restarts_iteration,
    reuse_basis,
    reused_steps,
    taken_over_reason,
)
from podium.core.engine.errors import NotFound, RunNotFound, StepExists
from podium.core.engine.outputs import REF_KEY, is_ref, output_key, ref_of, step_params_key
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.signals import signals_key
from podium.core.engine.status import StepStatus
from podium.core.expr import ExpressionError
from podium.core.expr.json_values import to_json_value
from podium.service.bindings import MissingPayload, iteration_of, run_params
from podium.service.context import Services
from podium.service.step_paths import iteration_run, old_child


def take_over(ctx: Services, run_id: str, old: StepRecord, old_run: str, now: int) -> None:
    record = StepRecord(
        run_id,
        old.step,
        StepStatus.SUCCEEDED,
        attempt=old.attempt,
        ready_at=now,
        started_at=now,
        ended_at=now,
        output=_own_copy(ctx, old.output, output_key(run_id, old.step, old.attempt)),
        params=_own_copy(ctx, old.params, step_params_key(run_id, old.step, old.attempt)),
        reason=taken_over_reason(old_run),
        log_ref=old.log_ref,
        # The signals a wait_for step was released with: what its templates read, what
        # the console shows, and what a restart of this run counts again
        # (signal_waits.released_with reads them here).
        signals=_own_copy(ctx, old.signals, signals_key(run_id, old.step)),
        # With them, what its wait counted from the run that one redid (a few numbers):
        # the record taken over says what the old one said.
        kept_signals=old.kept_signals,
    )
    with contextlib.suppress(StepExists):  # the same restart again: written already
        ctx.store.create_step(record)


def _own_copy(ctx: Services, value: Any, key: str) -> Any:
    """A big value taken over is copied under the new run's own key: the old run's
    payloads go with it (a local prune, the bucket's expiry counted from their writing),
    while the restart may live on. One read and one write per big value (over 8 KiB),
    only in a restart; a value already gone keeps its reference (nothing to copy)."""
    if not is_ref(value) or ctx.payloads is None:
        return value
    try:
        data = ctx.payloads.get(value[REF_KEY])
    except NotFound:
        return value
    return ref_of(ctx.payloads.put(key, data), len(data))


def restarted_child(
    ctx: Services,
    run: RunRecord,
    step: str,
    index: int,
    child_id: str,
    body: Any,
    values: dict[str, Any],
) -> str | None:
    """A restarted run's loop launches child ``index`` (starting with the iteration
    ``values``): unless the loop reruns in full (``rerun_whole``), the same child of the
    run it restarts (of the run that ran the loop, for a loop step that run took over:
    ``iteration_run``) is restarted from incomplete too, so an iteration that succeeded reruns
    nothing (its steps and outputs are taken over) and one that failed reruns only what
    did not succeed; the iteration a ``--from LOOP/INDEX/STEP`` names restarts from that
    step instead. An iteration is restarted only when it starts with the values the old
    one started with (``restarts_iteration``: its item, a while's state): else it runs
    in full. Returns the
    old child's id (the new child's ``restart_of``), None when the child runs in full."""
    if run.restart_of is None:
        return None
    top = run if run.root is None else _top(ctx, run.root)
    compiled = ctx.definitions.get(run.workflow, run.version)
    if step in rerun_whole(compiled.graph, top.run_id, top.restart_from, run.run_id):
        return None  # from beginning, or from this loop or a step above it: all rerun
    old = iteration_run(ctx, run.restart_of, step, index)
    if old is None:
        return None  # the old loop never got this far
    old_id = old.run_id
    if not restarts_iteration(iteration_of(ctx, old), _as_stored(values)):
        return None  # another item (other params), or another state: it all reruns
    # A restart from a step inside an iteration: the named iteration (and each on the
    # way to it) reruns from that step; the others from incomplete.
    _take_over_child(ctx, top, old_id, child_id, body)
    return old_id


def restarted_subworkflow(
    ctx: Services, run: RunRecord, step: str, attempt: int, child: RunRecord, body: Any
) -> str | None:
    """A restarted run's subworkflow step that waits for its child starts the child of
    its first ``attempt`` (``child``, not created yet; ``body``: its compiled workflow):
    unless the step reruns in full (``rerun_whole``: from beginning, or from this step or
    a step above it), the child the old run's step ran last is restarted from incomplete
    (from the step a restart path names in it, ``call/load``), as Maestro restarts a
    subworkflow: its succeeded steps are taken over with their
    outputs and only what did not succeed runs. Only when the old child ran the same
    workflow, version and params (else it all runs); a retry (a later attempt) runs
    the workflow again in full, as any retry does. Returns the old child's id (the new
    child's ``restart_of``: its own loops and subworkflows restart theirs), None when the
    child runs in full. No read for a run that is not a restart."""
    if run.restart_of is None or attempt != 1:
        return None
    top = run if run.root is None else _top(ctx, run.root)
    compiled = ctx.definitions.get(run.workflow, run.version)
    if step in rerun_whole(compiled.graph, top.run_id, top.restart_from, run.run_id):
        return None
    # In the run the step ran in: the old run, or one before it that it took it over from.
    _, old_id = old_child(ctx, run.restart_of, step)
    if old_id is None:
        return None  # the old run never started this step's child
    try:
        old = ctx.store.get_run(old_id)
        same = (old.workflow, old.version) == (child.workflow, child.version) and run_params(
            ctx, old
        ) == _as_stored(child.params)
    except (RunNotFound, MissingPayload):
        return None  # pruned, expired: nothing to take over
    if not same:
        return None
    # A restart from a step inside it (``call/load``): from that step; else incomplete.
    _take_over_child(ctx, top, old_id, child.run_id, body)
    return old_id


def _take_over_child(ctx: Services, top: RunRecord, old_id: str, child_id: str, body: Any) -> None:
    """Write into the new child run ``child_id`` the steps of the old one ``old_id`` that
    it takes over: from incomplete, or from the step the top run's restart path names in
    it (``restart_from_in``), everything above that step."""
    rerun_from = restart_from_in(top.run_id, top.restart_from, child_id)
    steps = ctx.store.list_steps(old_id)
    succeeded, decided = reuse_basis(steps)
    reuse = reused_steps(body.graph, succeeded, rerun_from, decided=decided)
    now = ctx.now()
    for s in steps:
        if s.step in reuse:
            take_over(ctx, child_id, s, old_id, now)


def _as_stored(values: dict[str, Any]) -> dict[str, Any]:
    """The iteration values as its child run stores them (service.loops.stored_iteration),
    to compare with the old child's; ``{}`` (never equal) for one with no JSON form,
    which fails the loop as it is stored."""
    try:
        stored: dict[str, Any] = to_json_value(values, "iteration")
    except ExpressionError:
        return {}
    return stored


def _top(ctx: Services, root: str) -> RunRecord:
    """The top run of a restarted iteration's tree (one read per launched iteration of
    a nested loop of a restarted run; the top run's own loops have it at hand)."""
    return ctx.store.get_run(root)
