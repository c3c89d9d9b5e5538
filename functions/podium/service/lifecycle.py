"""The run lifecycle's one seam: everything that follows a run's terminal write.

``run_ended`` runs every follow-up of a terminal run, each idempotent: give the strategy
slot back, let the next queued run in, and finally settle the run (it leaves the store's
active index). A crash anywhere in between leaves the run unsettled, so the next late
message for it, or the sweeper, runs ``run_ended`` again. Loops, subworkflows and the
events bus add their follow-ups here.

The steps an ended run leaves unfinished are ended by ``cancel_steps``: a running
attempt is terminated and ends STOPPED (TIMED_OUT when the run's own deadline ended
it), except one that already has its result. A callback's result is accepted (202) by
the API, recorded, and only then applied by its ``done`` message
(core/engine/callback_results.py); a run that ends by its deadline between the two
would drop a result it accepted in time. So a waiting attempt of a run ended by its
deadline asks its runtime (``KeepsResults``) for a result recorded by the earlier of
the run's deadline and its own, and ends with it (SUCCEEDED with its output, or failed
with its error, never retried: the run has ended), nothing after it starting. Its
later ``done`` finds it closed. Only runs ended by their deadline with an attempt of
such a runtime still waiting pay the read (the run's timeline).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from podium.core.engine.actions import was_taken_over
from podium.core.engine.errors import RunConflict, StepConflict
from podium.core.engine.outputs import output_key, step_params_key
from podium.core.engine.plans import plan_finish, plan_run_end
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.retention import own_permit_key
from podium.core.engine.retry import was_given_back
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.expr import ExpressionError
from podium.service import messages
from podium.service.admission import discard_replaced, holder_age, release_slot
from podium.service.attempt_records import record_error, stored, with_result_for
from podium.service.bindings import render_step_params
from podium.service.context import Services
from podium.service.deadlines import (
    deadline_of,
    inherited_from,
    own_deadline,
    run_deadline,
    withdraw_deadline,
)
from podium.service.gone_runs import still_there
from podium.service.permits import (
    abandon_if_queued,
    in_queue,
    leave_if_stranded,
    release_all,
    wake_head,
)
from podium.service.run_events import run_status_event
from podium.service.runtimes.base import Attempt, Done, Failed, KeepsResults
from podium.service.signal_waiters import wait_ended
from podium.service.step_events import publish_step
from podium.service.wakeups import wake_loop

log = logging.getLogger("podium.lifecycle")
_ACTIVE = frozenset({RunStatus.RUNNING, RunStatus.PAUSED})


# The end counts of the Runs widget (docs/operations.md, Metrics), by the run's final
# status. A timed-out run is a failed one (RunsFailed, as before RunsTimedOut existed)
# and RunsTimedOut says how many of them timed out; a kill ends a run FAILED. DISCARDED
# is never counted: such a run was never admitted, so never counted as started.
_END_METRICS: dict[RunStatus, tuple[str, ...]] = {
    RunStatus.SUCCEEDED: ("RunsSucceeded",),
    RunStatus.FAILED: ("RunsFailed",),
    RunStatus.TIMED_OUT: ("RunsFailed", "RunsTimedOut"),
    RunStatus.STOPPED: ("RunsStopped",),
}


def count_run_end(ctx: Services, run: RunRecord) -> None:
    """Count the end of ``run``, just written: called only by the writer whose
    conditional write ended it (a replay or a duplicate message finds it ended, and
    counts nothing), so each end is counted once, whoever ended it. Top runs only:
    RunsStarted is counted at admission, which a child run (a loop's iteration, a
    subworkflow's run: part of its parent's step) never goes through."""
    if run.parent_run is not None:
        return
    for name in _END_METRICS.get(run.status, ()):
        ctx.metrics.count(name)


def run_ended(ctx: Services, run: RunRecord, *, cancelled: Collection[str] = ()) -> None:
    """Redo every follow-up of a terminal run (all idempotent), then settle it.
    ``cancelled``: the steps the caller's ``cancel_steps`` just ended (and terminated)."""
    if not run.status.terminal or run.settled:
        return
    ended = run.ended_at if run.ended_at is not None else ctx.now()
    plan = plan_run_end(run.status, ended, ctx.lease_ms)
    if plan.cancel_unfinished:
        # A step claimed just before the run ended, or whose worker died, would stay
        # RUNNING (holding its permits) forever: end what is unfinished.
        cancelled = [*cancelled, *cancel_steps(ctx, run, f"run {run.status.value}")]
    # A loop or subworkflow step that ended other than SUCCEEDED (stopped, timed out,
    # failed fast) stops its children once it has ended: a crash in between is redone.
    # The ones cancelled just now were terminated by it: not asked twice.
    stop_children_of_ended_steps(ctx, run, f"run {run.status.value}", skip=frozenset(cancelled))
    if plan.ended_check_at is not None:
        # A worker that read the run as RUNNING may still create a step after this pass;
        # it cannot take longer than a lease (a Lambda's life): a check then ends it.
        ctx.at(messages.EndedCheck(run.run_id), plan.ended_check_at, queue="events")
    release_run_permits(ctx, run)
    if run.parent_run is not None:
        # A child run (a loop iteration): it holds no slot; its parent step counts it
        # and settles it in one write.
        child_ended(ctx, run)
        return
    release_slot(ctx, run)
    assert ctx.events is not None
    ctx.events.publish([run_status_event(run)])
    try:
        ctx.store.settle_run(run.run_id)
    except RunConflict:  # pragma: no cover - the run is terminal: cannot happen
        log.warning("settle of %s refused", run.run_id)


def child_ended(ctx: Services, run: RunRecord, count: str | None = None) -> None:
    """A child run ended: tell its parent step (the parent's count settles the child;
    until then the sweeper redoes this). A child settled with its end only wakes the
    loop up, counted first under ``count`` (its outcome) when its end left that to the
    batch's end (service/wakeups.py)."""
    assert run.parent_run is not None and run.parent_step is not None
    if run.iteration is None:  # a subworkflow's run is a run of its workflow: announce it
        assert ctx.events is not None
        ctx.events.publish([run_status_event(run)])
    # A loop step is never retried (attempt 1); a subworkflow runs a child per attempt.
    attempt = 1 if run.iteration is not None else (run.parent_index or 0) + 1
    event = {
        "kind": messages.CHILD_EVENT_KIND,
        "run": run.run_id,
        "index": run.parent_index,
        "status": run.status.value,
    }
    done = messages.Done(run.parent_run, run.parent_step, attempt, event)
    if run.settled:  # ended and counted at once (core.engine.plans.ends_settled)
        event["counted"] = True
        index = run.parent_index
        assert index is not None
        # One per loop per batch (service/wakeups.py).
        wake_loop(ctx, done, (index, count) if count is not None else None)
        return
    ctx.event_queue.send(messages.encode(done))


def stop_children_of_ended_steps(
    ctx: Services, run: RunRecord, reason: str, *, skip: frozenset[str] = frozenset()
) -> int:
    """The run ended: stop the children still running of each of its loop and
    subworkflow steps that ended other than SUCCEEDED. Their stop (the runtime's
    ``terminate``) comes after the step's own end: a crash between the two left children
    running, out of the sweeper's index; the run's ``run_ended``, redone by the sweeper
    until the run settles, redoes it. One batch read, only for workflows with such
    steps. Returns how many steps it asked."""
    steps = ctx.definitions.get(run.workflow, run.version).definition.steps
    specs = {s.id: s for s in steps if s.id not in skip and ctx.runtime_for(s).has_child_runs}
    if not specs:
        return 0
    ended = [
        record
        for record in ctx.store.get_steps([(run.run_id, step) for step in specs]).values()
        if stops_its_children(record)
    ]
    for record in ended:
        spec = specs[record.step]
        started = record.started_at if record.started_at is not None else ctx.now()
        attempt = Attempt(run, spec, record.step, record.attempt, started, record=record)
        ctx.runtime_for(spec).terminate(ctx, attempt, reason)
    return len(ended)


def stops_its_children(record: StepRecord) -> bool:
    """Whether a loop or subworkflow step's children are stopped once it has ended: it
    ended other than SUCCEEDED, after it started (attempt 1 or more: a step ended before
    it started has no children). Its end stops them after its own write; a crash in
    between is redone by its run's end (``stop_children_of_ended_steps``) and by a pause
    or resume of its run (service/pausing.move_tree)."""
    return (
        record.status.terminal and record.status is not StepStatus.SUCCEEDED and record.attempt >= 1
    )


def stop_run(
    ctx: Services,
    run_id: str,
    reason: str,
    *,
    to: RunStatus = RunStatus.STOPPED,
    results_by: int | None = None,
) -> RunRecord | None:
    """RUNNING or PAUSED -> STOPPED (or FAILED: a kill): no new step starts, running
    attempts are terminated and end STOPPED with the rest of the unfinished steps.
    ``results_by``: a child run its parent's deadline stops (the parent's own, or the
    one its parent got): a waiting attempt's result recorded by then is kept."""
    changes: dict[str, Any] = {"ended_at": ctx.now(), "reason": reason}
    if to is RunStatus.FAILED:
        changes["error"] = reason
    if results_by is not None:
        changes["results_by"] = results_by
    try:
        stopped = ctx.store.transition_run(run_id, expected=_ACTIVE, to=to, changes=changes)
    except RunConflict as conflict:
        if conflict.current is not None and conflict.current.status.terminal:
            run_ended(ctx, conflict.current)  # a replay: redo what a crash may have lost
        return None
    count_run_end(ctx, stopped)
    cancelled = cancel_steps(ctx, stopped, reason)
    run_ended(ctx, stopped, cancelled=cancelled)
    return stopped


def supersede(ctx: Services, workflow: str) -> None:
    """last_only: the newest run (by creation time, then id) replaces every other run of
    the workflow, queued (DISCARDED: ``admission.discard_replaced``) or active (STOPPED).

    Every start makes this same pass over the same candidates, so concurrent starts agree
    on one winner whatever order they run in: an older start never stops a newer run, and
    a start that finds a newer run discards itself. A holder whose run is gone is no
    candidate: its slot is given back, as the sweeper gives it back."""
    newest = discard_replaced(ctx, workflow)
    if newest is None:
        return
    # Holders are read again after the drops: a run admitted between the queue's read
    # and its drop (the drop finds it gone) holds a slot by now, and is older than the
    # winner. A holder newer than the winner started after this pass read: it is left
    # alone (its own start's pass decides).
    slots = ctx.store.run_slots()
    for holder in sorted(newest.holders | set(slots.state(workflow).holders)):
        if holder == newest.run_id:
            continue
        age = holder_age(ctx, holder)
        if age is None:
            # Its run is gone: nothing would ever release the slot but the sweeper, a
            # minute away; given back now (the sweeper's same call), the winner that
            # the admission after this pass lets in starts at once.
            slots.release(workflow, holder, block=False)
        elif age < newest.key:
            stop_run(ctx, holder, f"stopped: replaced by newer run {newest.run_id} (last_only)")


def release_run_permits(ctx: Services, run: RunRecord) -> None:
    """Give back every permit a step of this ended run still holds (a release lost with
    a crash after the step's end write), and wake who waits. Then the run's own
    max_parallel_steps key, which no other run uses, is deleted (``forget``: on
    condition that nobody holds or waits), else its record would stay for good, one per
    run. One read per key the workflow names, and one conditional delete when the run
    has a key of its own still there; nothing for workflows without keys."""
    keys = ctx.definitions.get(run.workflow, run.version).permit_keys(run.run_id)
    if not keys:
        return
    permits = ctx.store.permits()
    mine = f"{run.run_id}/"
    own = own_permit_key(run.run_id)
    for key in sorted(keys):
        state = permits.state(key)
        held = [h for h in state.holders if h.startswith(mine)]
        for holder in held:
            permits.release(key, holder)
        if held:
            wake_head(ctx, key)
        # The run's steps have ended (or cancel_steps ended them): none claims or queues
        # on its key again, but for a worker that read the run as RUNNING, within a
        # lease: the key it makes again is left, to expire with the run's items on AWS
        # or go with the run in a local prune. Nothing to delete when the read found no
        # record (every claim and wait sets ``limit``): a repeat of this pass writes
        # nothing.
        if key == own and state.limit is not None:
            permits.forget(key)


def cancel_steps(
    ctx: Services, run: RunRecord, reason: str, *, running_to: StepStatus | None = None
) -> list[str]:
    """End every unfinished step of an ended run: a running attempt is terminated (its
    runtime cancels the external work) and ends ``running_to`` (by default TIMED_OUT in
    a run its deadline ended, also when a redo after a crash ends them, else STOPPED);
    the others end STOPPED. Each write names the state it expects, so a step finishing
    meanwhile keeps its result; a waiting attempt whose result was accepted in time ends
    with it (``kept_result``). Returns the steps it ended."""
    if running_to is None:
        by_deadline = run.status is RunStatus.TIMED_OUT and results_by(ctx, run) is not None
        running_to = StepStatus.TIMED_OUT if by_deadline else StepStatus.STOPPED
    return [
        record.step
        for record in ctx.store.list_steps(run.run_id)
        if cancel_step(ctx, run, record, reason, running_to=running_to)
    ]


def cancel_step(
    ctx: Services,
    run: RunRecord,
    record: StepRecord,
    reason: str,
    *,
    running_to: StepStatus = StepStatus.STOPPED,
) -> bool:
    """End one unfinished step of an ended run (see cancel_steps); False if it was
    already terminal or moved meanwhile (whoever moved it owns the follow-ups)."""
    if record.status.terminal:
        return False
    now = ctx.now()
    # A given-back step's end is said under its attempt's number, and its work stopped.
    given_back = is_given_back(record)
    if in_queue(record):  # queued for a permit, or woken and not claimed yet
        left = abandon_if_queued(ctx, record, StepStatus.STOPPED, reason)
        if left and given_back:
            given_back_ended(ctx, run, record, StepStatus.STOPPED, reason)
        return left
    running = record.status is StepStatus.RUNNING
    # A run its deadline ended: a waiting attempt's result accepted in time is its result.
    keeps = running and results_by(ctx, run) is not None
    if keeps:
        kept = kept_result(ctx, run, record)
        if kept is not None:
            return end_with_result(ctx, run, *kept)
    to = running_to if running else StepStatus.STOPPED

    def end(unless_result: bool) -> StepRecord:
        return ctx.store.transition_step(
            run.run_id,
            record.step,
            expected=frozenset({record.status}),
            attempt=record.attempt,
            to=to,
            # Not ended by a result: a request whose note lost the race reads so.
            changes={"ended_at": now, "reason": reason, "lease_until": None, "result_for": None},
            unless_result=unless_result,
        )

    try:
        # The API may have recorded a result (in time) since the read above: it notes
        # it on the step, and this end yields to it.
        ended = end(unless_result=keeps)
    except StepConflict as conflict:
        current = conflict.current
        if not keeps or current is None or not _noted(current, record.attempt):
            return False
        kept = kept_result(ctx, run, current)
        if kept is not None:
            return end_with_result(ctx, run, *kept)
        # Noted, yet no result recorded by the deadline is found (the API notes only a
        # result in time; a payload gone, say): it ends as any waiting attempt.
        try:
            ended = end(unless_result=False)
        except StepConflict:
            return False
    # Read READY and not queued, it may have queued for a permit and been woken since
    # (READY again at the same attempt): it must not keep its place in the queue.
    leave_if_stranded(ctx, ended)
    if given_back:
        given_back_ended(ctx, run, record, StepStatus.STOPPED, reason)
        return True
    publish_step(ctx, run, record.step, to, attempt=record.attempt or None, error=reason)
    if record.status is StepStatus.WAITING_FOR_SIGNALS and ctx.signals is not None:
        wait_ended(ctx, run, record)
    if record.status is StepStatus.RUNNING:
        end_stopped_attempt(ctx, run, record, reason)
    return True


def end_stopped_attempt(ctx: Services, run: RunRecord, record: StepRecord, reason: str) -> None:
    """The follow-ups of a running attempt's stop, after its end write: its work
    cancelled (the runtime's ``terminate``: a loop's iterations, a subworkflow's run
    stopped), its deadline timer withdrawn, its permits given back. All idempotent: a
    stop asked again after a crash cut them short redoes them (service/actions.py)."""
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = Attempt(run, spec, record.step, record.attempt, started)
    ctx.runtime_for(spec).terminate(ctx, attempt, reason)
    withdraw_deadline(ctx, attempt)
    release_all(ctx, run, record.step)


def _noted(record: StepRecord, attempt: int) -> bool:
    """The attempt still waits, with a result the API noted for it (note_result)."""
    return (
        record.status is StepStatus.RUNNING
        and record.attempt == attempt
        and record.result_for == attempt
    )


def results_by(ctx: Services, run: RunRecord) -> int | None:
    """Until when a result recorded for a waiting attempt of this ended run is its
    result: the run's deadline, for a run its deadline ended (TIMED_OUT at or after
    it), or an ancestor's, for a child run that deadline stopped (``stop_run``'s
    ``results_by``); None for any other end (a stop, a failure: no result is kept).
    No read."""
    if run.results_by is not None and run.status.terminal:
        return run.results_by
    if run.status is not RunStatus.TIMED_OUT or run.ended_at is None:
        return None
    deadline = run_deadline(ctx, run)
    return deadline if deadline is not None and run.ended_at >= deadline else None


def kept_by(ctx: Services, run: RunRecord, step_deadline: int | None) -> int | None:
    """The time by which the child runs a loop or subworkflow step stops now keep a
    callback result accepted for them: the deadline that ended the step, its run's
    (``results_by``) or its own ``timeout`` once reached (its timer fires at it). None:
    a plain stop, which keeps none."""
    by = results_by(ctx, run)
    if step_deadline is not None and step_deadline <= ctx.now():
        by = step_deadline if by is None else min(by, step_deadline)
    return by


def kept_result(
    ctx: Services, run: RunRecord, record: StepRecord
) -> tuple[Attempt, Done | Failed] | None:
    """The result a waiting attempt (``record``, RUNNING) of an ended run keeps: one its
    runtime recorded (a callback's, accepted by the API) by the run's deadline and the
    attempt's own, when the run's deadline ended it. Reads the run's timeline only for
    such an attempt of a runtime that records results (``KeepsResults``)."""
    by = results_by(ctx, run)
    if by is None:
        return None
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    runtime = ctx.runtime_for(spec)
    if not isinstance(runtime, KeepsResults):
        return None
    started = record.started_at if record.started_at is not None else ctx.now()
    attempt = Attempt(run, spec, record.step, record.attempt, started, record=record)
    decided = runtime.recorded_result(ctx, attempt, by=min(by, deadline_of(ctx, attempt)))
    return (attempt, decided) if isinstance(decided, Done | Failed) else None


def end_with_result(ctx: Services, run: RunRecord, attempt: Attempt, result: Done | Failed) -> bool:
    """End an attempt with a result it had by its run's deadline (one a callback's API
    accepted: ``kept_result``; one handled after the deadline: ``attempts.apply_result``),
    planned as its ``done`` would plan it (core: ``plan_finish``) and written by the same
    conditional write (RUNNING at this attempt), with none of what follows a step's end
    in a running run: no retry is planned and no successor starts (the run has ended,
    or ends now). False if it moved meanwhile. A success's ``emit`` is asked for by a
    message (service.signals.on_emit; that module imports back into this one), sent
    before the write so that a crash between them loses nothing."""
    now = ctx.now()
    step, number = attempt.step, attempt.number
    emits = ctx.definitions.get(run.workflow, run.version).expressions.emits
    if isinstance(result, Done) and step in emits:
        ctx.event_queue.send(messages.encode(messages.Emit(run.run_id, step, number)))
    params = stored(ctx, step_params_key(run.run_id, step, number), _params_of(ctx, attempt))
    if isinstance(result, Done):
        output = stored(ctx, output_key(run.run_id, step, number), result.output)
        plan = plan_finish(
            attempt.spec,
            run.run_id,
            step,
            number,
            now,
            output=output,
            params=params,
            log_ref=result.log_ref,
        )
    else:
        plan = plan_finish(
            attempt.spec,
            run.run_id,
            step,
            number,
            now,
            error=result.error,
            params=params,
            log_ref=result.log_ref,
            retry=False,
        )
    try:
        ctx.store.transition_step(
            run.run_id,
            step,
            expected=frozenset({StepStatus.RUNNING}),
            attempt=number,
            to=plan.to,
            changes=with_result_for(plan.changes, result, number),
        )
    except StepConflict:
        return False
    summary = plan.error.summary() if plan.error is not None else None
    if plan.error is not None:
        # Its start and invocation kept for the attempt list and its logs, should an
        # operator retry the step in place (no "retry" item records this attempt then).
        ref = {"log_ref": result.log_ref} if result.log_ref else {}
        record_error(
            ctx,
            run,
            step,
            number,
            now,
            plan.error,
            "failed",
            {"started_at": attempt.started_at, **ref},
        )
    publish_step(ctx, run, step, plan.to, attempt=number, error=summary, at=now)
    withdraw_deadline(ctx, attempt)
    release_all(ctx, run, step)
    return True


def _params_of(ctx: Services, attempt: Attempt) -> dict[str, Any] | None:
    """The step params an ending attempt records, as its ``done`` records them: those
    rendered for it, else rendered again (same inputs, same values); none if they
    cannot be rendered now (they were at its start)."""
    if attempt.params or not attempt.spec.params:
        return attempt.params or None
    try:
        return render_step_params(ctx, attempt.run, attempt.step)
    except ExpressionError:
        return None


def given_back_ended(
    ctx: Services, run: RunRecord, record: StepRecord, to: StepStatus, reason: str
) -> None:
    """A given-back step (``record`` as read before its end) just ended ``to`` (STOPPED,
    or SKIPPED by an operator): its attempt said RUNNING, so its end is said under its
    number on the bus, and its work is stopped as a running attempt's is (idempotent:
    work never started is not there to stop). Its permits went back with the give-back,
    and its deadline too."""
    number = record.attempt + 1
    publish_step(ctx, run, record.step, to, attempt=number, error=reason)
    spec = ctx.definitions.get(run.workflow, run.version).step(record.step)
    ctx.runtime_for(spec).terminate(ctx, Attempt(run, spec, record.step, number, ctx.now()), reason)


def is_given_back(record: StepRecord) -> bool:
    """A step given back (service/attempts.give_back) is its attempt going on, not yet
    claimed again: that attempt said RUNNING, and its work may have started (an ECS
    RunTask refused as throttled may have been accepted by an earlier try of the same
    call, under the attempt's clientToken)."""
    return record.status is not StepStatus.RUNNING and was_given_back(
        record.retry_counts, record.attempt + 1
    )


def on_run_deadline(ctx: Services, run_id: str) -> RunRecord | None:
    """The run's deadline passed (its own ``timeout``; for a child run, its ancestors'
    if earlier: the check of a completion or a claim past it): it ends TIMED_OUT,
    running attempts are terminated (TIMED_OUT) and the rest is stopped; a waiting
    attempt whose callback result the API accepted by then ends with it
    (``kept_result``), whichever of its ``done`` and this timer is handled first. A
    timer firing early or late finds the run's real deadline or an ended run, and does
    nothing."""
    run = still_there(ctx, run_id, "deadline")
    if run is None:
        return None
    if run.status.terminal:
        run_ended(ctx, run)
        return None
    deadline = run_deadline(ctx, run)
    if deadline is None or ctx.now() < deadline:
        return None
    timeout = ctx.definitions.get(run.workflow, run.version).definition.timeout
    if deadline == own_deadline(ctx, run) and timeout is not None:
        message = f"the run ran longer than its timeout of {timeout:g} s"
    else:
        message = f"the run ran past {inherited_from(ctx, run)}"
    try:
        ended = ctx.store.transition_run(
            run_id,
            expected=_ACTIVE,
            to=RunStatus.TIMED_OUT,
            # A pause's reason ("paused by alice") is not why it ended.
            changes={"ended_at": ctx.now(), "error": message, "reason": None},
        )
    except RunConflict:
        return None
    count_run_end(ctx, ended)
    cancelled = cancel_steps(ctx, ended, message)  # running attempts: TIMED_OUT
    run_ended(ctx, ended, cancelled=cancelled)
    return ended


def in_ended_run(ctx: Services, run: RunRecord, step: str) -> StepRecord | None:
    """A message for a step of an ended run: the step (queued for a permit, claimed
    just before the run ended, or whose worker died) must not stay unfinished nor hold
    anything; and the run's follow-ups are redone if a crash cut them short. Returns
    the step as read (before this ended it, if it did)."""
    # Only this step: a late message per step of a failed 10,000-step run must not list
    # the whole run each time. Steps created in the instant the run ended, with no
    # message of their own, are ended by the run's ended_check a lease later.
    record = ctx.store.get_step(run.run_id, step)
    if record is not None and not record.status.terminal:
        cancel_step(ctx, run, record, f"run {run.status.value}")
    elif record is not None:
        # Its worker wrote the success and died before sending the step's emit (or the
        # emit of a successor it ran in-process after it, which has no message of its
        # own), and the run ended before the sweeper redid it (a deadline, a kill): this
        # late message is the last that names them. Sent again by message
        # (signals.on_emit; idempotent). Read only where an emit is owed below.
        for owed in _owed_emits(ctx, run, record):
            emit = messages.Emit(run.run_id, owed.step, owed.attempt)
            ctx.event_queue.send(messages.encode(emit))
    run_ended(ctx, run)  # a no-op once settled
    return record


def _owed_emits(ctx: Services, run: RunRecord, record: StepRecord) -> list[StepRecord]:
    """The steps that succeeded (run, not taken over by a restart) and have an ``emit``:
    ``record`` itself, and those below it (one batched read, only when an emitting step
    is below it: most workflows read nothing)."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    emits = compiled.expressions.emits
    if not emits:
        return []
    below = sorted(emits.keys() & compiled.graph.downstream(record.step))
    found = list(ctx.store.get_steps([(run.run_id, s) for s in below]).values()) if below else []
    return [
        r
        for r in [record, *found]
        if r.step in emits and r.status is StepStatus.SUCCEEDED and not was_taken_over(r.reason)
    ]


def on_ended_check(ctx: Services, run_id: str) -> list[str]:
    """A lease after a run ended (not succeeded): end any step a worker that had read
    the run as RUNNING created in the instant it ended. Returns the steps it ended."""
    run = still_there(ctx, run_id, "ended check")
    if run is None or not run.status.terminal or run.status is RunStatus.SUCCEEDED:
        return []
    return cancel_steps(ctx, run, f"run {run.status.value}")
