"""The while runtime: one iteration at a time, each a child run, while a condition holds.

Before every iteration (the first included) the ``condition`` is evaluated over the
loop ``state``; after each, ``update`` computes the next state from the iteration's
step outputs. The state an iteration ran with is kept on its child run (its
``iteration.state``), so every pass recomputes the same next state from stored facts:
nothing is kept in the worker. A failed iteration fails the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.dsl.expressions import compile_value
from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.identity import child_run_id
from podium.core.engine.loops import LoopError
from podium.core.engine.outputs import OUTPUT_ERROR, output_problem
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import StepStatus
from podium.core.engine.step_error import StepError, stopped_reason, user_error
from podium.core.expr import ExpressionError, compile_expression
from podium.core.expr.json_values import NotJsonError, to_json_value
from podium.core.expr.shown import type_label
from podium.service import loops
from podium.service.bindings import bindings_for, iteration_of, run_binding, run_params
from podium.service.context import Services
from podium.service.deadlines import children_deadline, past_own_deadline, step_deadline
from podium.service.loop_views import iteration_error
from podium.service.runtimes.base import Attempt, Done, Failed, Result, Waiting


class WhileRuntime:
    synchronous = False
    has_child_runs = True

    def wait_ms(self, spec: Any) -> int:
        timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
        return int(float(timeout) * 1000)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        return self._pass(ctx, attempt)

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self._pass(ctx, attempt, attempt.record)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        # The poll (the parent's sweeper check) also counts a child that a crash left
        # settled but uncounted, and watches the children that outlived their first check.
        loops.poll_children(ctx, attempt.run, attempt.step)
        return self._pass(ctx, attempt)

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return loops.uncounted_child_ids(ctx, run, record.step)

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        record = attempt.record or ctx.store.get_step(attempt.run.run_id, attempt.step)
        if record is not None:
            loops.stop_children(
                ctx, attempt.run, record, stopped_reason(reason), deadline=step_deadline(attempt)
            )

    def _pass(self, ctx: Services, attempt: Attempt, read: StepRecord | None = None) -> Result:
        run, spec = attempt.run, attempt.spec
        record = read if read is not None else ctx.store.get_step(run.run_id, attempt.step)
        if record is None or record.status is not StepStatus.RUNNING:
            return Waiting()
        done = record.children_ok + record.children_failed + record.children_stopped
        if past_own_deadline(ctx, attempt):
            # Its timer is late: no iteration starts, and one that ended past the
            # deadline (timed out by it) fails nothing; the step times out.
            return loops.time_out(ctx, attempt, record)
        if record.children_failed or record.children_stopped:
            last = _child(ctx, run, attempt.step, done - 1)
            # A stopped iteration says why it stopped (an operator's reason), as its row
            # in the loop's iterations does.
            said = iteration_error(last) if last is not None else None
            why = f": {said}" if said else ""
            # The run's error names the step already (as a foreach's does).
            return _fatal(f"iteration {done - 1} {_status(last)}{why}")
        # The launched mark is raised after the child is created: a child that ended
        # before its launcher raised it is counted all the same.
        index = max(record.children_launched, done)
        if done < index:
            return Waiting()  # an iteration runs: its end brings the next pass
        try:
            state = self._state(ctx, run, attempt.step, spec, index)
        except ExpressionError as exc:  # its message says where (state or update.<field>)
            return _fatal(exc.message)
        try:
            parent = iteration_of(ctx, run)  # its payload may be gone: MissingPayload
            go_on = _condition(spec.condition, run, run_params(ctx, run), state, index, parent)
        except ExpressionError as exc:
            return _fatal(f"condition before iteration {index}: {exc.message}")
        if not go_on:
            output = {"iterations": index, "state": state}
            problem, _ = output_problem(output, "its output (the final state)")  # as any step's
            if problem is not None:
                return Failed(StepError.of(OUTPUT_ERROR, problem, retryable=False))
            return Done(output)
        if index >= spec.max_iterations:
            return _fatal(
                f"the condition still holds after max_iterations"
                f" ({spec.max_iterations:,}); raise it (up to 100,000) or fix the condition"
            )
        values = {"index": index, "state": state}
        if parent is not None:
            values["parent"] = parent
        try:
            loops.launch(
                ctx,
                run,
                attempt.step,
                lambda _i: values,
                index,
                index + 1,
                trigger="while",
                deadline=children_deadline(ctx, attempt),
            )
        except LoopError as exc:
            return _fatal(str(exc))
        return Waiting()

    def _state(
        self, ctx: Services, run: RunRecord, step: str, spec: Any, index: int
    ) -> dict[str, Any]:
        """The state before iteration ``index``: the initial one, or the previous
        iteration's state updated from its outputs.

        Rendered values are made JSON at once (core.expr.json_values), as they are
        stored on the iteration's child run: every iteration, its condition and the
        step's output see one form on every store (a timestamp as its RFC 3339 string).
        A value with no JSON form (NaN) raises ExpressionError: the step fails."""
        base = {"params": run_params(ctx, run), "run": run_binding(run)}
        if index == 0:
            initial: dict[str, Any] = to_json_value(
                {k: _render_field(v, base, f"state.{k}") for k, v in spec.state.items()}, "state"
            )
            return initial
        prev = _child(ctx, run, step, index - 1)
        ran_with = iteration_of(ctx, prev) if prev is not None else None
        if prev is None or ran_with is None:
            raise ExpressionError(f"iteration {index - 1} is missing")
        state = dict(ran_with.get("state") or {})
        if not spec.update:
            return state
        reads = _steps_read(spec.update)
        bound = bindings_for(ctx, prev, reads)
        bound["state"] = state
        after = f"after iteration {index - 1}"
        rendered = {
            k: _render_field(v, bound, f"update.{k} {after}") for k, v in spec.update.items()
        }
        try:
            updated = to_json_value(rendered, "update")
        except NotJsonError as exc:
            raise ExpressionError(f"{exc.message} ({after})") from None
        return {**state, **updated}


def _child(ctx: Services, run: RunRecord, step: str, index: int) -> RunRecord | None:
    if index < 0:
        return None
    from podium.core.engine.errors import RunNotFound

    try:
        return ctx.store.get_run(child_run_id(run.run_id, step, index))
    except RunNotFound:
        return None


def _status(run: RunRecord | None) -> str:
    return run.status.value if run is not None else "failed"


def _render(value: Any, bindings: Mapping[str, Any]) -> Any:
    # Templates anywhere inside (a map of templates) render, as in a payload: their
    # references were checked at push (core.dsl.loops).
    return compile_value(value).render(bindings)


def _render_field(value: Any, bindings: Mapping[str, Any], where: str) -> Any:
    """One field of the state or the update, its error naming it (``update.loss after
    iteration 3: no such key: 'nope'``)."""
    try:
        return _render(value, bindings)
    except ExpressionError as exc:
        raise ExpressionError(f"{where}: {exc.message}") from None


def _steps_read(update: Mapping[str, Any]) -> set[str]:
    """The body steps whose outputs the update reads, templates nested in maps included."""
    return set(compile_value(dict(update)).steps_read)


def _condition(
    source: str,
    run: RunRecord,
    params: dict[str, Any],
    state: dict[str, Any],
    index: int,
    parent: dict[str, Any] | None,
) -> bool:
    iteration: dict[str, Any] = {"index": index, "state": state}
    if parent is not None:
        iteration["parent"] = parent
    value = compile_expression(source).evaluate(
        {"params": params, "run": run_binding(run), "state": state, "iteration": iteration}
    )
    if not isinstance(value, bool):
        # In CEL's words (string, null, map), as every other type error of an expression.
        raise ExpressionError(f"condition must be true or false, got {type_label(value)}")
    return value


def _fatal(message: str) -> Failed:
    return Failed(user_error(message, retryable=False))
