"""Operators' actions on runs and steps: stop, kill, pause, resume, restart; skip, retry
now, stop and resume a step.

Each action is checked against the one matrix in core (core/engine/actions.py), applied
with conditional writes, and recorded as a timeline event of the run (who, when, why,
the request id). The same request id again answers what the first request did, without
acting twice: the event is keyed by it. A write that loses a race (the run or step moved
meanwhile) reads the new state and checks the matrix again, so the caller gets either
the action done or a refusal naming the status it lost to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from podium.core.engine.actions import (
    ACTION_EVENT,
    FOLLOWS_PARENT,
    NOT_RETRIED_IN_PLACE,
    STEP_ACTION_RUNS,
    ActionRefused,
    BadStepPath,
    IterationPath,
    RunAction,
    StepAction,
    StepPath,
    check_retry_in_place,
    check_run_action,
    check_step_action,
)
from podium.core.engine.errors import RunConflict, RunNotFound, StepConflict
from podium.core.engine.records import QueueEntry, RunRecord, StepRecord, TimelineEvent
from podium.core.engine.request_ids import RequestIdReused, differing, fingerprint
from podium.core.engine.status import RunStatus, StepStatus
from podium.service.admission import waiting_reason
from podium.service.api_requests import NoSuchStep, step_choices
from podium.service.context import Services
from podium.service.detached_runs import detached, follows_parent
from podium.service.lifecycle import (
    cancel_step,
    end_stopped_attempt,
    given_back_ended,
    is_given_back,
    stop_run,
)
from podium.service.pausing import pause_tree, resume_step
from podium.service.restart import (
    AlreadyRestarted,
    RestartRequest,
    newest_restart,
    restart,
    restart_place,
    restarted_as,
)
from podium.service.resuming import release_held, resume_tree
from podium.service.retry_failed import (
    RETRIED_BY,
    reopen_below,
    retry_failed,
    send_next_attempt,
)
from podium.service.run_events import publish_run_status
from podium.service.signal_waiters import wait_ended
from podium.service.step_paths import walk_iteration_path

_MAX_TRIES = 20  # re-reads after a lost race; each loss means the state moved on


@dataclass(frozen=True)
class Actor:
    """Who acts and why: the caller's IAM identity (or the local user), a reason, and a
    request id that makes a retried request harmless."""

    by: str
    reason: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class ActionResult:
    action: str
    run_id: str
    status: str  # the run's status after the action (the step's, for a step action)
    at: int
    by: str
    request_id: str
    step: str | None = None
    new_run: str | None = None  # restart: the run it created
    # ... and what became of it: RUNNING, or QUEUED / DISCARDED by its run strategy (and
    # why); on a repeated request, its status now.
    new_status: str | None = None
    new_reason: str | None = None
    repeated: bool = False  # the same request id again: what the first request did
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "action": self.action,
            "run_id": self.run_id,
            "status": self.status,
            "at": self.at,
            "by": self.by,
            "request_id": self.request_id,
            "repeated": self.repeated,
        }
        if self.step is not None:
            body["step"] = self.step
        if self.new_run is not None:
            body["new_run"] = self.new_run
            body["new_status"] = self.new_status
            body["new_reason"] = self.new_reason
        return body


class StepNotFound(NoSuchStep):
    """A 404 at ``body.step`` naming the steps the run's workflow has (and the likeliest
    one), as a breakpoint or a step inside a loop is refused."""

    def __init__(self, run_id: str, step: str, workflow: str, known: Sequence[str] = ()) -> None:
        super().__init__(
            f"run '{run_id}' of workflow '{workflow}' has no step '{step}'"
            f"{step_choices(step, known)}",
            "body.step",
        )


def event_id(request_id: str) -> str:
    return f"action-{request_id}"


def _body(action: str, actor: Actor, fields: dict[str, Any]) -> dict[str, str]:
    """The request's fingerprint (core/engine/request_ids.py): what a request id stands
    for, recorded with the action, so the same id with another body is refused."""
    return fingerprint({"action": action, "reason": actor.reason, **fields})


def _recorded(
    ctx: Services, run_id: str, request_id: str | None, body: dict[str, str]
) -> ActionResult | None:
    if request_id is None:
        return None
    wanted = event_id(request_id)
    for event in ctx.store.list_events(run_id):
        if event.event_id == wanted:
            d = event.detail
            differ = differing(d.get("fingerprint"), body)  # none recorded: the same
            if differ:
                raise RequestIdReused(request_id, differ)
            new = _run_or_none(ctx, d.get("new_run"))
            return ActionResult(
                action=str(d.get("action")),
                run_id=str(d.get("run") or run_id),
                status=str(d.get("status")),
                at=event.at,
                by=str(d.get("by")),
                request_id=request_id,
                step=event.step,
                new_run=d.get("new_run"),
                new_status=new.status.value if new is not None else None,
                new_reason=_why_so(ctx, new),
                repeated=True,
            )
    return None


def _why_so(ctx: Services, new: RunRecord | None) -> str | None:
    """Why a restart's run is what it is: a QUEUED one, where it waits and behind what
    (a strict_sequential block names ``podium unblock``); else its reason."""
    if new is None:
        return None
    if new.status is RunStatus.QUEUED:
        return waiting_reason(ctx, new)
    return new.reason


def _run_or_none(ctx: Services, run_id: Any) -> RunRecord | None:
    if not isinstance(run_id, str):
        return None
    try:
        return ctx.store.get_run(run_id)
    except RunNotFound:
        return None


def _record(
    ctx: Services,
    result: ActionResult,
    reason: str | None,
    body: dict[str, str],
    *,
    also_on: str | None = None,
) -> ActionResult:
    """The action on its run's timeline (its request id's record), and on ``also_on``
    too, the run the request named when it acted on a step of a child run."""
    detail: dict[str, Any] = {
        "action": result.action,
        "by": result.by,
        "reason": reason,
        "request_id": result.request_id,
        "status": result.status,
        "fingerprint": body,
    }
    if also_on is not None and also_on != result.run_id:
        detail["run"] = result.run_id  # the child run acted on: a repeat answers with it
    if result.new_run is not None:
        detail["new_run"] = result.new_run
    for run_id in dict.fromkeys([result.run_id, also_on or result.run_id]):
        ctx.store.put_event(
            TimelineEvent(
                run_id,
                result.at,
                event_id(result.request_id),
                ACTION_EVENT,
                step=result.step,
                detail=detail,
            )
        )
    if result.new_run is not None:
        # The new run's timeline names who restarted it and why too (the runbook's
        # "check the new run"), pointing back rather than forward.
        back = {k: v for k, v in detail.items() if k != "new_run"}
        ctx.store.put_event(
            TimelineEvent(
                result.new_run,
                result.at,
                event_id(result.request_id),
                ACTION_EVENT,
                step=result.step,
                detail={**back, "status": result.new_status, "restart_of": result.run_id},
            )
        )
    return result


def _still_changing(action: str, target: str, status: str) -> ActionRefused:
    """Every try lost a race (others act on the same run at the same moment): a 409 the
    caller retries, never a 500."""
    return ActionRefused(
        action,
        target,
        status,
        [],
        f"its status changed {_MAX_TRIES} times while this request tried; try again",
    )


def _why(actor: Actor, what: str) -> str:
    reason = f"{what} by {actor.by}"  # "skipped by ...": core's SKIPPED_BY
    return f"{reason}: {actor.reason}" if actor.reason else reason


# -- run actions ------------------------------------------------------------------------
def run_action(
    ctx: Services,
    run_id: str,
    action: RunAction,
    actor: Actor,
    restart_request: RestartRequest | None = None,
) -> ActionResult:
    """Apply one action to a run (409 ``ActionRefused`` when the matrix refuses it)."""
    fields: dict[str, Any] = {}
    if action is RunAction.RESTART:
        asked = restart_request or RestartRequest()
        fields = {"from": asked.start_from, "params": dict(asked.params), "version": asked.version}
    body = _body(action.value, actor, fields)
    seen = _recorded(ctx, run_id, actor.request_id, body)
    if seen is not None:
        return seen
    request_id = actor.request_id or ctx.ids.new_id()
    new: RunRecord | None = None
    repeated = False
    for _ in range(_MAX_TRIES):
        run = ctx.store.get_run(run_id)
        _check_run(ctx, run, action)
        if action is RunAction.RESTART:
            try:
                new = restart(ctx, run, restart_request or RestartRequest(), request_id)
            except AlreadyRestarted as already:
                if actor.request_id is None or already.new.request_id != actor.request_id:
                    raise
                # This very request again: a crash cut it short after it made the run,
                # before its record (below). Its answer, and the record it lacks.
                new, repeated = already.new, True
            after = run
        else:
            moved = _apply_run_action(ctx, run, action, actor)
            if moved is None:
                continue  # lost a race: read again, check again
            after = moved
        result = ActionResult(
            action.value,
            run_id,
            after.status.value,
            ctx.now(),
            actor.by,
            request_id,
            new_run=new.run_id if new is not None else None,
            new_status=new.status.value if new is not None else None,
            new_reason=_why_so(ctx, new),
            repeated=repeated,
        )
        return _record(ctx, result, actor.reason, body)
    raise _still_changing(action.value, f"run {run_id}", ctx.store.get_run(run_id).status.value)


def _check_run(ctx: Services, run: RunRecord, action: RunAction) -> None:
    """Core's matrix, told what the run is: a child run that pauses and resumes with its
    parent (a loop's iteration, a waited-for subworkflow's run; not a detached one), a
    loop iteration's run (restarted through its top run only), a waited-for
    subworkflow's run (restarted through its parent only) or a run restarted already.
    """
    parent: tuple[str, str] | None = None
    takes: str | None = None
    if follows_parent(ctx, run):
        assert run.parent_run is not None
        parent = (run.parent_run, run.parent_step or "?")
        if action in FOLLOWS_PARENT:  # its hint names the run that takes it
            takes = pausing_run(ctx, run)
    place = restart_place(ctx, run)
    if place is not None and run.status.terminal:  # its hint names the run to restart
        place = replace(place, top=newest_restart(ctx, place.top))
    where = (place.top, place.path) if place is not None else None
    through = place is not None and place.subworkflow
    # A second restart is refused by ``restart`` itself, naming the run that restarted it
    # (AlreadyRestarted): looked up here for the other actions, which an ended run refuses.
    new = restarted_as(ctx, run) if action is not RunAction.RESTART else None
    check_run_action(
        action,
        run.run_id,
        run.status,
        parent=parent,
        pauses_with=takes,
        iteration=None if through else where,
        waited_by=where if through else None,
        restarted_as=new.run_id if new is not None else None,
    )


def pausing_run(ctx: Services, run: RunRecord) -> str:
    """The run a pause or resume of ``run`` takes: ``run`` itself, or for a child run
    that follows its parent, the first run up its parents that does not (the top run, a
    detached child, a child whose parent is gone): a nested iteration's parent refuses
    it too. One read per run on the way up."""
    current = run
    while current.parent_run is not None:
        try:
            parent = ctx.store.get_run(current.parent_run)
        except RunNotFound:
            break  # gone: nothing else could resume it (follows_parent)
        if detached(ctx, current, parent):
            break
        current = parent
    return current.run_id


def _apply_run_action(
    ctx: Services, run: RunRecord, action: RunAction, actor: Actor
) -> RunRecord | None:
    """The action's writes; None when the run moved meanwhile."""
    if action in (RunAction.STOP, RunAction.KILL):
        to = RunStatus.STOPPED if action is RunAction.STOP else RunStatus.FAILED
        why = _why(actor, "stopped" if to is RunStatus.STOPPED else "killed")
        if run.status is RunStatus.QUEUED:
            entry = QueueEntry(run.workflow, run.run_id, run.created_at)
            if not ctx.store.run_slots().drop_queued(entry, to, why, ctx.now()):
                return None
            dropped = ctx.store.get_run(run.run_id)
            publish_run_status(ctx, dropped)  # it ended before it started: no run_ended
            return dropped
        return stop_run(ctx, run.run_id, why, to=to)
    if action is RunAction.PAUSE:
        why = _why(actor, "paused")
        paused = _transition(ctx, run, RunStatus.RUNNING, RunStatus.PAUSED, why)
        if paused is not None:
            pause_tree(ctx, paused, why)  # its loops' and subworkflows' runs too
            publish_run_status(ctx, paused)
        return paused
    if action is RunAction.RESUME:
        resumed = _transition(ctx, run, RunStatus.PAUSED, RunStatus.RUNNING, None)
        if resumed is not None:
            # Said first: a held step that goes on may end the run, whose end is
            # published then and must not come before its RUNNING.
            publish_run_status(ctx, resumed, at=ctx.now())
            resume_tree(ctx, resumed)
            release_held(ctx, resumed)
            return ctx.store.get_run(run.run_id)
        return None
    raise ValueError(f"not a run action with writes: {action}")  # pragma: no cover


def _transition(
    ctx: Services, run: RunRecord, expected: RunStatus, to: RunStatus, reason: str | None
) -> RunRecord | None:
    try:
        return ctx.store.transition_run(
            run.run_id, expected=frozenset({expected}), to=to, changes={"reason": reason}
        )
    except RunConflict:
        return None


# -- step actions -----------------------------------------------------------------------
def step_action(
    ctx: Services, run_id: str, path: str, action: StepAction, actor: Actor
) -> ActionResult:
    """Apply one action to a step, named by its path (``load``; ``per_day/3/load`` for a
    step of a loop iteration, which lives in that iteration's child run; ``call/load``
    for a step of the run a ``wait: true`` subworkflow step ran last, as a restart
    takes the path)."""
    into = IterationPath.parse(path)  # BadStepPath for a malformed one
    body = _body(action.value, actor, {"step": path})
    # A request id is kept on the run the request named (its steps at any depth: one id
    # reused for another iteration's step is refused) and on the run it acted on.
    seen = _recorded(ctx, run_id, actor.request_id, body)
    if seen is not None:
        return seen
    where = StepPath(run_id, path)
    if into is not None:  # each part named must exist: say which does not
        top = ctx.store.get_run(run_id)
        # An iteration of a loop a restart took over is the one in the run it ran in;
        # the run of a subworkflow step, the one its last attempt started (where it ran).
        home = walk_iteration_path(
            ctx,
            top,
            ctx.definitions.get(top.workflow, top.version),
            into,
            path,
            lambda message: BadStepPath(path, message.split(": ", 1)[-1]),
            "act on",
            taken_over=True,
            into_subworkflows=True,
        )
        where = StepPath(home, into.step)
        seen = _recorded(ctx, home, actor.request_id, body)
        if seen is not None:  # recorded on the run acted on only (a crash cut it short)
            return seen
    request_id = actor.request_id or ctx.ids.new_id()
    run = ctx.store.get_run(where.run_id)
    compiled = ctx.definitions.get(run.workflow, run.version)
    if where.step not in compiled.graph.predecessors:
        known = [s.id for s in compiled.definition.steps]
        raise StepNotFound(where.run_id, where.step, run.workflow, known)
    kind = compiled.step(where.step).type
    for _ in range(_MAX_TRIES):
        run = ctx.store.get_run(where.run_id)
        record = ctx.store.get_step(run.run_id, where.step)
        status = record.status if record is not None else None
        origin, full, restarted = run_id, path, None
        top_ended: bool | None = None
        if run.status.terminal:  # refused: its hint names the restart that reruns the step
            origin, full, restarted = _restart_target(ctx, run_id, path)
            if origin != run.run_id and restarted is None:
                # An ended iteration's (or child's) top run may still run: the hint says
                # whether to restart it now or once it has ended (a read on refusal only).
                top_ended = ctx.store.get_run(origin).status.terminal
        again = _stopped_by_this(ctx, run, record, action, actor, path)
        if not again:
            check_step_action(
                action,
                run.run_id,
                full,
                run.status,
                status,
                top_run=origin,
                restarted_as=restarted,
                top_ended=top_ended,
                kind=kind,
                resumes_with=pausing_run(ctx, run) if run.status is RunStatus.PAUSED else None,
            )
        if action is StepAction.RETRY:
            # A loop step that ended is refused, naming the restart that reruns it: made
            # through the first run up the named one's parents a restart takes.
            through, full, _ = (
                _restart_target(ctx, run_id, path)
                if kind in NOT_RETRIED_IN_PLACE
                else (run_id, path, None)
            )
            check_retry_in_place(run_id, path, status, kind, restart=(through, full))
        after = _apply_step_action(ctx, run, where.step, record, action, actor, again=again)
        if after is None:
            continue
        result = ActionResult(
            action.value, run.run_id, after.value, ctx.now(), actor.by, request_id, step=path
        )
        return _record(ctx, result, actor.reason, body, also_on=run_id)
    record = ctx.store.get_step(where.run_id, where.step)
    shown = record.status.value if record is not None else "not reached yet"
    raise _still_changing(action.value, f"step {path} of run {where.run_id}", shown)


def _restart_target(ctx: Services, run_id: str, path: str) -> tuple[str, str, str | None]:
    """The step ``path`` of ``run_id``, as a restart reruns it: (the run restarted, the
    path from it, the newest run that restarted that one already, if any). A loop
    iteration's run, and a waited-for subworkflow's run, is restarted through the first
    run up its parents a restart takes, from a path into it (``LOOP/INDEX/STEP``,
    ``SUBWORKFLOW_STEP/STEP``)."""
    named = ctx.store.get_run(run_id)
    place = restart_place(ctx, named)
    if place is None:
        top, full = named.run_id, path
    else:
        top, full = place.top, f"{place.path}/{path}"
    newest = newest_restart(ctx, top)
    return top, full, newest if newest != top else None


def _apply_step_action(
    ctx: Services,
    run: RunRecord,
    step: str,
    record: StepRecord | None,
    action: StepAction,
    actor: Actor,
    *,
    again: bool = False,
) -> StepStatus | None:
    """The action's writes and follow-ups; the step's new status, None when it moved.
    ``again``: a stop cut short, asked again (``_stopped_by_this``)."""
    assert record is not None  # the matrix allows nothing on a step not reached yet
    if action is StepAction.SKIP:
        return _skip(ctx, run, step, record, _why(actor, "skipped"))
    if action is StepAction.STOP:
        if again:
            # This stop again, after a crash cut it short past its end write: its
            # follow-ups are redone (a loop's iterations stopped), as the first would have
            # done them (all idempotent), and it answers as the first would have.
            if record.attempt >= 1:  # it had started: its work may still go on
                end_stopped_attempt(ctx, run, record, _why(actor, "stopped"))
        elif not cancel_step(ctx, run, record, _why(actor, "stopped")):
            return None
        from podium.service.attempts import replay_terminal

        # A stopped step is a failure downstream (its run fails unless a handler
        # recovers it), like a failed one: the same follow-ups.
        replay_terminal(ctx, run, step, StepStatus.STOPPED, _why(actor, "stopped"))
        return StepStatus.STOPPED
    if action is StepAction.RETRY:
        if record.status.terminal:  # failed, in a run that still runs: retried in place
            if not retry_failed(ctx, run, record, _why(actor, "retried")):
                return None
            return StepStatus.RETRY_WAIT
        if (record.reason or "").startswith(RETRIED_BY):
            # A retry in place that a crash cut short, requested again: finish it.
            reopen_below(ctx, run.run_id, step)
        # The next attempt now; the timer due later finds it claimed and is dropped.
        send_next_attempt(ctx, run.run_id, step, record.attempt)
        return StepStatus.RETRY_WAIT
    if action is StepAction.RESUME:
        return StepStatus.READY if resume_step(ctx, run.run_id, record) else None
    raise ValueError(f"not a step action: {action}")  # pragma: no cover


def _stopped_by_this(
    ctx: Services,
    run: RunRecord,
    record: StepRecord | None,
    action: StepAction,
    actor: Actor,
    path: str,
) -> bool:
    """Whether ``action`` is a stop of a step a stop with its actor and reason has
    stopped already, in a run that takes step stops, and that stop was cut short: a
    crash after its STOPPED write answered it 500 before its action event was recorded,
    so the same request again would meet the matrix's refusal (nothing is allowed from
    STOPPED). A stop that was recorded is done: a new one (even by the same operator,
    with the same reason) is refused as before. The timeline is read only when the rest
    holds (a rare path)."""
    if not (
        action is StepAction.STOP
        and record is not None
        and record.status is StepStatus.STOPPED
        and record.reason == _why(actor, "stopped")
        and run.status in STEP_ACTION_RUNS[StepAction.STOP]
    ):
        return False
    return not any(
        event.kind == ACTION_EVENT and event.step == path and event.detail.get("action") == "stop"
        for event in ctx.store.list_events(run.run_id)
    )


def _skip(
    ctx: Services, run: RunRecord, step: str, record: StepRecord, why: str
) -> StepStatus | None:
    """SKIPPED with the reason; its successors go on as after a success (the DAG
    continues), so an operator can skip a broken step and let the rest run."""
    now = ctx.now()
    changes: dict[str, Any] = {"ended_at": now, "reason": why, "lease_until": None}
    assert record is not None  # the matrix allows no skip of a step not reached yet
    # A given-back step's attempt said RUNNING and its work may have started: its skip
    # is said under that attempt, and its work stopped, as a stop's is.
    given_back = is_given_back(record)
    if record.waiting_key is not None:
        if not ctx.store.permits().abandon(record, StepStatus.SKIPPED, changes):
            return None
        from podium.service.permits import wake_head

        wake_head(ctx, record.waiting_key)
    else:
        try:
            skipped = ctx.store.transition_step(
                run.run_id,
                step,
                expected=frozenset({record.status}),
                attempt=record.attempt,
                to=StepStatus.SKIPPED,
                changes=changes,
            )
        except StepConflict:
            return None
        from podium.service.permits import leave_if_stranded

        # Read READY and not queued, it may have queued and been woken since.
        leave_if_stranded(ctx, skipped)
    if given_back:
        given_back_ended(ctx, run, record, StepStatus.SKIPPED, why)
    if record.status is StepStatus.WAITING_FOR_SIGNALS and ctx.signals is not None:
        wait_ended(ctx, run, record)  # its waiters and deadline timer go, as on a stop
    from podium.service.advance import after_terminal, dispatch

    propagation = after_terminal(ctx, run, step, StepStatus.SUCCEEDED)
    dispatch(ctx, run.run_id, propagation)
    return StepStatus.SKIPPED


__all__ = [
    "ActionRefused",
    "ActionResult",
    "Actor",
    "RestartRequest",
    "RunAction",
    "StepAction",
    "StepNotFound",
    "run_action",
    "step_action",
]
