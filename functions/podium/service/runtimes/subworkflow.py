"""The subworkflow runtime: another pushed workflow run as a child run.

The child has a deterministic id (the step's path and attempt), is created with a
conditional put and skips run-strategy admission; its version is resolved once (active,
latest or a number), when the step starts, and recorded on the child run and on the step:
a retry runs that version again. With ``wait`` the step ends with the child's status
(SUCCEEDED with the child's ``outputs``, FAILED, TIMED_OUT, STOPPED); without it, the
step succeeds once the child has started, and the child is detached
(``detached``): its parent's pause, resume, stop and end leave it alone, and it is
paused, resumed and stopped on its own. In a restarted run, a waited-for child restarts
the old run's child from incomplete (``restarted_subworkflow``); it is never restarted
on its own (service/restart.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.dsl.params import check_evaluated, check_validations, resolve_params
from podium.core.engine.errors import RunConflict, RunNotFound, WorkflowNotFound
from podium.core.engine.hold_marks import hold_mark
from podium.core.engine.identity import MAX_DEPTH, child_run_id
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus
from podium.core.engine.step_error import (
    STOPPED,
    StepError,
    stopped_reason,
    timeout_error,
    user_error,
)
from podium.core.expr import ExpressionError
from podium.core.expr.json_values import to_json_value
from podium.service import messages
from podium.service.bindings import bindings_for, run_binding
from podium.service.context import Services
from podium.service.deadlines import (
    children_deadline,
    run_deadline,
    step_deadline,
)
from podium.service.lifecycle import kept_by, stop_run
from podium.service.missed_pause import (
    launches_paused,
    pause_found_running,
    pause_launched,
    paused_meanwhile,
)
from podium.service.reuse import restarted_subworkflow
from podium.service.runs import with_stored_params
from podium.service.runtimes.base import Attempt, Done, Failed, Result, Waiting
from podium.service.subworkflows import resolve_version


class SubworkflowRuntime:
    synchronous = False
    has_child_runs = True

    def wait_ms(self, spec: Any) -> int:
        timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
        return int(float(timeout) * 1000)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        return self._pass(ctx, attempt)

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self._pass(ctx, attempt)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        return self._pass(ctx, attempt)

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        # One child per attempt (none before the first).
        if record.attempt < 1:
            return []
        return [child_run_id(run.run_id, record.step, record.attempt - 1)]

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        if attempt.spec.wait:
            by = kept_by(ctx, attempt.run, step_deadline(attempt))
            stop_run(ctx, _child_id(attempt), stopped_reason(reason), results_by=by)

    def _pass(self, ctx: Services, attempt: Attempt) -> Result:
        try:
            child = ctx.store.get_run(_child_id(attempt))
        except RunNotFound:
            started = self._launch(ctx, attempt)
            if isinstance(started, Failed):
                return started
            child = started
        else:
            held = hold_mark(attempt.run) if attempt.spec.wait else None
            if held is not None and child.status is RunStatus.RUNNING:
                # Found running under a run read paused: a launch cut short between the
                # child's creation and its launched mark (which reads a pause back), the
                # pause's walk before the child existed. Paused as that launch would have
                # (service/missed_pause.py); it starts on the resume.
                pause_found_running(ctx, child.run_id, held)
        if not attempt.spec.wait:
            return Done({"run_id": child.run_id})
        if not child.status.terminal:
            return Waiting()
        return _outcome(ctx, child)

    def _launch(self, ctx: Services, attempt: Attempt) -> RunRecord | Failed:
        run, spec = attempt.run, attempt.spec
        if run.depth + 1 > MAX_DEPTH:
            return _fatal(
                f"subworkflow {spec.workflow!r} would nest deeper than {MAX_DEPTH} levels"
                " (loops and subworkflows count; a workflow that calls itself stops here)"
            )
        recorded = _recorded_version(ctx, attempt)
        try:
            # Resolved once, when the step starts: a retry runs the version its first
            # attempt recorded on the step, whatever was pushed or activated since (a
            # restart of the run, a new run, resolves again).
            wanted = spec.version if recorded is None else recorded
            version = resolve_version(ctx, spec.workflow, wanted)
            compiled = ctx.definitions.get(spec.workflow, version)
            literal = resolve_params(compiled.definition, attempt.params)
        except WorkflowNotFound:
            if recorded is not None:
                return _fatal(
                    f"workflow {spec.workflow!r} version {recorded} is not there any more:"
                    " the step resolved it when it started, and a retry runs it again;"
                    f" restart the run to resolve {spec.version} again"
                )
            return _fatal(f"no workflow {spec.workflow!r} version {spec.version} is pushed")
        except DefinitionError as exc:
            return _fatal(f"params of {spec.workflow!r}: {exc}")
        now = ctx.now()
        # Launched while its parent is paused (a launch redone after a crash: a running
        # attempt goes on in a paused run), a child that waits for it waits too, as a
        # loop's iterations do; a detached child is a run of its own.
        paused = spec.wait and launches_paused(run)
        child = RunRecord(
            run_id=_child_id(attempt),
            workflow=spec.workflow,
            version=version,
            status=RunStatus.PAUSED if paused else RunStatus.RUNNING,
            reason=run.reason if paused else None,
            params=literal,
            created_at=now,
            started_at=now,
            sinks_total=len(compiled.graph.sinks),
            trigger="subworkflow",
            root=run.root or run.run_id,
            parent_run=run.run_id,
            parent_step=attempt.step,
            parent_index=attempt.number - 1,
            depth=run.depth + 1,
            # The child publishes its own status changes: a trigger cycle through it
            # counts on from its parent's chain (core/engine/trigger_events.py).
            chain=run.chain,
            logical_date=run.logical_date,
            tags={**compiled.definition.tags, **run.tags},
            # Its parent's deadline bounds it too; the step's own timeout only when the
            # step waits for it (wait: false succeeds once the child started).
            ancestor_deadline=(
                children_deadline(ctx, attempt) if spec.wait else run_deadline(ctx, run)
            ),
        )
        try:
            evaluated = compiled.expressions.evaluate_params(literal, run_binding(child))
            child = replace(child, params=check_evaluated(compiled.definition, evaluated))
            check_validations(compiled.definition, child.params)
            if spec.wait:
                # A restarted run's child restarts the old one from incomplete
                # (service/reuse.py): its succeeded steps taken over before it starts.
                child = replace(
                    child,
                    restart_of=restarted_subworkflow(
                        ctx, run, attempt.step, attempt.number, child, compiled
                    ),
                )
            child = with_stored_params(ctx, child)
        except DefinitionError as exc:
            return _fatal(f"params of {spec.workflow!r}: {exc}")
        index = attempt.number - 1
        ctx.store.open_children(run.run_id, attempt.step, index, index + 1)
        try:
            ctx.store.create_run(child)  # skips admission: a child is part of its parent
        except RunConflict as conflict:
            if conflict.current is not None:
                child = conflict.current
        held = ctx.store.mark_launched(
            run.run_id,
            attempt.step,
            attempt.number,
            {"workflow": child.workflow, "version": version},
        )
        # A pause of the parent racing this launch pauses a child that waits for it
        # (service/missed_pause.py); a detached child is a run of its own.
        missed = paused_meanwhile(ctx, run, held, first_launch=True) if spec.wait else None
        if paused and child.status is RunStatus.RUNNING:
            # Created RUNNING by a launch that read the run running, and died before it
            # could see the pause: paused now, before it starts.
            missed = run.reason or "paused"
        if missed is not None:
            pause_launched(ctx, [child.run_id], missed)  # it starts on resume
        elif child.status is RunStatus.RUNNING:  # a paused one starts on resume
            ctx.event_queue.send(messages.encode(messages.Start(child.run_id)))
        return child


def _recorded_version(ctx: Services, attempt: Attempt) -> int | None:
    """The version an earlier attempt of the step resolved (``mark_launched`` keeps the
    first ``{"workflow", "version"}`` on the step); None for the first attempt."""
    if attempt.number <= 1:
        return None
    record = attempt.record
    if record is None or record.loop is None:
        record = ctx.store.get_step(attempt.run.run_id, attempt.step)
    loop = record.loop if record is not None else None
    version = loop.get("version") if isinstance(loop, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _child_id(attempt: Attempt) -> str:
    # One child per attempt: a retried subworkflow step runs the workflow again.
    return child_run_id(attempt.run.run_id, attempt.step, attempt.number - 1)


def _fatal(message: str) -> Failed:
    return Failed(user_error(message, retryable=False))


def _outcome(ctx: Services, child: RunRecord) -> Result:
    if child.status is RunStatus.SUCCEEDED:
        try:
            return Done(_outputs(ctx, child))
        except ExpressionError as exc:
            return _fatal(f"outputs of {child.workflow!r}: {exc.message}")
    where = f"subworkflow run {child.run_id} ({child.workflow}) {child.status.value}"
    detail = f": {child.error}" if child.error else ""
    if child.status is RunStatus.TIMED_OUT:
        # Retried as any timeout is: by a retrier that names Podium.Timeout (the default
        # budget for timeouts is none), each retry a new child run.
        return Failed(timeout_error(where + detail))
    if child.status is RunStatus.STOPPED:
        reason = f": {child.reason}" if child.reason else ""
        return Failed(StepError.of(STOPPED, where + reason, retryable=False))
    return Failed(user_error(where + detail))


def _outputs(ctx: Services, child: RunRecord) -> dict[str, Any]:
    compiled = ctx.definitions.get(child.workflow, child.version)
    template = compiled.expressions.outputs
    if template is None:
        return {}
    value = template.render(bindings_for(ctx, child, template.steps_read))
    assert isinstance(value, dict)
    # The step's output is stored: JSON (a timestamp as RFC 3339), or an ExpressionError
    # naming the field (NaN), which fails the step rather than its store write.
    converted: dict[str, Any] = to_json_value(value, "outputs")
    return converted
