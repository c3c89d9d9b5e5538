"""Retry a failed step while its run still runs (an operator's ``steps retry`` on a
FAILED or TIMED_OUT step): its next attempt starts now, and what its failure decided
below it and on the run is taken back where nothing started yet (the plan is core's:
core/engine/reopen.py).

The order of the writes keeps the run from ending on a stale count: the sinks the
retry reopens are uncounted first (while the step is still FAILED, so a branch ending
meanwhile cannot end the run past the retry), then the step is reopened (one
conditional write: exactly one of two racing retries gets it), the sinks below it are
uncounted again before the run's failing flag is cleared (so a branch that
ends meanwhile cannot complete the run, as SUCCEEDED, past this step), the skipped
steps are deleted after the flag is cleared (so a replay that decides one afresh no
longer sees a failing run), and a reopened join's predecessors are read after the
deletes (one that ended in between arrives again, by our replay or its own). A crash
anywhere is finished by the same request again (its step is then RETRY_WAIT with the
``retried by`` reason: ``reopen_below`` runs again, and is idempotent).
"""

from __future__ import annotations

from podium.core.engine.actions import ActionRefused
from podium.core.engine.errors import RunConflict, StepConflict
from podium.core.engine.graph import Graph
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.reopen import REOPENABLE, other_failures, plan_reopen
from podium.core.engine.status import StepStatus
from podium.service import messages
from podium.service.context import Services

RETRIED_BY = "retried by "  # the reason of a step an operator retried after it failed


def retry_failed(ctx: Services, run: RunRecord, record: StepRecord, why: str) -> bool:
    """FAILED/TIMED_OUT -> RETRY_WAIT (due now), what it skipped reopened, and its next
    attempt sent. False when the step moved meanwhile (another retry got there first)
    or the run ended before the retry could hold it open."""
    if not _hold_run_open(ctx, run.run_id, record.step):
        return False
    changes = {"due_at": ctx.now(), "reason": why, "lease_until": None}
    if ctx.definitions.get(run.workflow, run.version).step(record.step).type == "subworkflow":
        # A retry asked for after the fix (a new version of the called workflow pushed)
        # resolves the version again: the one the step's first attempt recorded binds
        # only the step's own retries (runtimes/subworkflow.py).
        changes["loop"] = None
    try:
        ctx.store.transition_step(
            run.run_id,
            record.step,
            expected=frozenset({record.status}),
            attempt=record.attempt,
            to=StepStatus.RETRY_WAIT,
            changes=changes,
        )
    except StepConflict:
        return False
    reopen_below(ctx, run.run_id, record.step)
    send_next_attempt(ctx, run.run_id, record.step, record.attempt)
    return True


def _hold_run_open(ctx: Services, run_id: str, step: str) -> bool:
    """Uncount the sinks the retry reopens before the step itself is reopened: a branch
    that ends in between then cannot complete the run past the retry (the run ending
    FAILED with the retried attempt stopped, found by the simulation with operator
    retries). False when the run ended first: the retry is refused (restart is the
    action then). A crash after this and before the reopen leaves the step FAILED with
    its sinks uncounted: asking again finishes the retry, and otherwise the sweeper's
    check of a stale run whose steps all ended counts them again and ends the run."""
    run = ctx.store.get_run(run_id)
    if run.status.terminal:
        return False
    graph = ctx.definitions.get(run.workflow, run.version).graph
    records = {r.step: r for r in ctx.store.list_steps(run_id)}
    undecided = sorted(s for s in graph.successors[step] if s not in records)
    if undecided and records[step].status in (StepStatus.FAILED, StepStatus.TIMED_OUT):
        # The worker that recorded the failure is still deciding what follows it (or
        # died doing so: the sweeper finishes that). Reopening now would race with it:
        # a successor it creates after the reopen would stay skipped.
        raise ActionRefused(
            "retry",
            f"step {step} of run {run_id}",
            records[step].status.value,
            ["retry"],
            f"its failure is still being handled: {', '.join(undecided)} not decided yet;"
            " try again in a moment",
        )
    for sink in plan_reopen(graph, step, records, run.failing or run.timed_out).uncount:
        _uncount(ctx, run, graph, sink)
    # The fence: a worker that read the run before this and is about to end it (its
    # count was full then) fails its write's condition; one that reads it after sees
    # the uncounted sinks. The run ending first makes this fail: the retry is refused.
    try:
        ctx.store.mark_run_reopened(run_id)
    except RunConflict:
        return False
    return True


def _uncount(ctx: Services, run: RunRecord, graph: Graph, sink: str) -> None:
    ctx.store.uncount_sink(run.run_id, sink, index=graph.sink_index[sink], sinks=run.sinks_total)


def send_next_attempt(ctx: Services, run_id: str, step: str, attempt: int) -> None:
    # A duplicate (the retry's and a due timer's) is dropped by the claim.
    ctx.work_queue.send(messages.encode(messages.Exec(run_id, step, attempt + 1)))


def reopen_below(ctx: Services, run_id: str, step: str) -> list[str]:
    """Take back what the step's failure decided where nothing started yet; returns the
    steps reopened. Idempotent."""
    run = ctx.store.get_run(run_id)
    graph = ctx.definitions.get(run.workflow, run.version).graph
    records = {r.step: r for r in ctx.store.list_steps(run_id)}
    plan = plan_reopen(graph, step, records, run.failing or run.timed_out)
    for sink in plan.uncount:
        _uncount(ctx, run, graph, sink)
    if ctx.store.get_run(run_id).status.terminal:
        # The run's last other branch ended it before the uncount: the retry lost that
        # race (its step is stopped with the run); what the run ended with stays as it is.
        return []
    since = run.failing_since
    if plan.unfail and since is not None and ctx.store.clear_run_failing(run_id, since):
        _fail_again_if_another_failed(ctx, run_id, graph, step)
    for reopened in plan.reopen:
        ctx.store.reopen_step(run_id, reopened, expected=REOPENABLE)
    for sink in plan.uncount:  # a replay may have counted one again before its delete
        if sink != step:
            _uncount(ctx, run, graph, sink)
    if plan.replay:
        from podium.service.attempts import replay_terminal

        now_run = ctx.store.get_run(run_id)
        for pred in plan.replay:
            p = ctx.store.get_step(run_id, pred)
            if p is not None and p.status.terminal:
                replay_terminal(
                    ctx, now_run, pred, p.status, p.error, p.output,
                    ended_at=p.ended_at, reason=p.reason,
                )  # fmt: skip
    return list(plan.reopen)


def _fail_again_if_another_failed(ctx: Services, run_id: str, graph: Graph, step: str) -> None:
    """Another step failed in the instant between our read and the clear (its worker
    had flagged the run before): flag it again for that failure. A failure after the
    clear flags the run itself; this read comes after the clear, so one of the two sees
    the other. A run that ended meanwhile takes no flag (store.mark_run_failing): what
    it ended with stays as it is."""
    records = {r.step: r for r in ctx.store.list_steps(run_id)}
    for other in other_failures(graph, step, records):
        r = records[other]
        if not ctx.store.mark_run_failing(
            run_id,
            f"{other}: {r.error or r.status.value}",
            timed_out=r.status is StepStatus.TIMED_OUT,
            at=r.ended_at,
        ):
            return
