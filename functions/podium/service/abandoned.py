"""Steps a stopped local process left running, reclaimed as soon as we know it stopped.

On AWS a step RUNNING under a worker that died is found by the sweeper once its lease
passes (up to the work function's timeout plus a minute): nobody can tell a dead Lambda
from a slow one sooner. An embedded home can: a step running in-process (its runtime is
synchronous: lambda, noop, a local function) has no worker at all once the process that
claimed it is gone, so waiting out its lease would only leave it RUNNING for a quarter of
an hour after a Ctrl-C, or for a day of real time when the lease was stamped by a
``podium run`` whose virtual clock had jumped a day's sleep. It is reclaimed at once,
exactly as the sweeper would: the attempt counts as lost and is retried
(``Podium.Lost``). Two ways to know: a runtime that starts on a home no other process
works on reclaims every such step (``reclaim_abandoned``); a runtime beside others
reclaims those whose claimant left the home's owners registry, stopped or found dead
(``reclaim_left_running``, with ``Owners.abandoned_claims``), as it adopts their
messages. Waiting steps (sleeps, callbacks, signals, jobs) are left to the sweeper:
nothing runs them in-process.
"""

from __future__ import annotations

from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus
from podium.service.completions import reclaim
from podium.service.context import Services


def reclaim_abandoned(ctx: Services) -> list[str]:
    """Reclaim every in-process step left RUNNING; returns them as ``run/step``.

    Only call it when no other process can be running steps of this store."""
    reclaimed: list[str] = []
    todo = list(ctx.store.list_active_run_ids())
    seen: set[str] = set()
    while todo:
        run_id = todo.pop()
        if run_id in seen:
            continue
        seen.add(run_id)
        try:
            run = ctx.store.get_run(run_id)
        except RunNotFound:
            continue
        if run.status.terminal:
            continue
        compiled = ctx.definitions.get(run.workflow, run.version)
        for step in ctx.store.list_steps(run_id):
            if step.status is not StepStatus.RUNNING:
                continue
            runtime = ctx.runtime_for(compiled.step(step.step))
            # A loop's iterations and a subworkflow's run are runs of their own, not
            # listed among the active ones until their loop watches them.
            todo += runtime.child_runs(ctx, run, step)
            if runtime.synchronous:
                _reclaim(ctx, run, step)
                reclaimed.append(f"{run_id}/{step.step}")
    return reclaimed


def _reclaim(ctx: Services, run: RunRecord, step: StepRecord, pid: int | None = None) -> None:
    process = "the process running it" if pid is None else f"the process running it (pid {pid})"
    ctx.store.put_event(
        TimelineEvent(
            run.run_id,
            ctx.now(),
            f"reclaim-{step.step}-{step.attempt}",  # the sweeper's id: one an attempt
            "reclaim",
            step=step.step,
            attempt=step.attempt,
            detail={
                "lease_until": step.lease_until,
                "abandoned": True,
                # Why, as a retry says its error (podium runs show prints it).
                "error": f"{process} stopped before the attempt ended (exited or was killed)",
            },
        )
    )
    reclaim(ctx, run, step)


def reclaim_left_running(
    ctx: Services, run_id: str, step: str, *, attempt: int, pid: int | None = None
) -> bool:
    """Reclaim the step if it is still RUNNING in-process at ``attempt``; True if it was
    reclaimed (``pid``: of the process that ran it, for the reclaim's reason).

    Only call it for an attempt whose claimant has stopped (its process left the home):
    a later attempt, claimed since by a live process, is not touched (and the reclaim's
    write is conditional on the attempt, for one claimed in between)."""
    try:
        run = ctx.store.get_run(run_id)
    except RunNotFound:
        return False
    record = ctx.store.get_step(run_id, step)
    if run.status.terminal or record is None or record.status is not StepStatus.RUNNING:
        return False
    if record.attempt != attempt:
        return False
    compiled = ctx.definitions.get(run.workflow, run.version)
    if not ctx.runtime_for(compiled.step(record.step)).synchronous:
        return False
    _reclaim(ctx, run, record, pid)
    return True
