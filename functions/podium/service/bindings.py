"""What expressions see at run time: params, run, and the outputs of upstream steps.

Outputs are read only for the steps an expression references (known at push time), so a
condition on the step that just ended costs no read at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from podium.core.engine.errors import NotFound
from podium.core.engine.outputs import REF_KEY, is_ref
from podium.core.engine.records import RunRecord
from podium.core.expr import ExpressionError
from podium.core.expr.shown import type_label
from podium.service.context import CompiledWorkflow, Services

log = logging.getLogger("podium.bindings")


class MissingPayload(ExpressionError, NotFound):
    """A value stored by reference whose payload is gone (expired with the bucket's
    lifecycle, deleted from the home). An ExpressionError, so a template or condition
    that reads it fails its step or its run, naming it, as any other value it cannot
    read does (not the worker on every delivery); a NotFound, so a view or an action
    that reads it answers as for anything else gone."""


def run_binding(run: RunRecord) -> dict[str, Any]:
    start = datetime.fromtimestamp((run.started_at or run.created_at) / 1000, UTC)
    return {
        "id": run.run_id,
        "workflow": run.workflow,
        "version": run.version,
        "start_time": start,
        "logical_date": run.logical_date or start.date().isoformat(),
        "trigger": run.trigger,  # api, local, cron:<id>, s3:<id>, backfill, ...
    }


def bindings_for(
    ctx: Services,
    run: RunRecord,
    steps: Iterable[str],
    known: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``known`` holds outputs already at hand (the step that just ended): its params
    are read only if it declares some (they are stored on its item), else ``{}``, as
    for a step read whole (``steps.a.params`` was missing from a known step, failing
    the edge condition or the emit reading it)."""
    outputs: dict[str, Any] = {}
    for sid in steps:
        if known is not None and sid in known:
            outputs[sid] = {"output": known[sid], "params": _known_params(ctx, run, sid)}
            continue
        record = ctx.store.get_step(run.run_id, sid)
        if record is None:
            outputs[sid] = {"output": None, "params": {}}
            continue
        outputs[sid] = {
            "output": resolve_output(ctx, record.output, f"steps.{sid}.output"),
            "params": resolve_output(ctx, record.params, f"steps.{sid}.params") or {},
        }
    bound = {"params": run_params(ctx, run), "run": run_binding(run), "steps": outputs}
    iteration = iteration_of(ctx, run)
    if iteration is not None:  # a loop iteration's run
        bound["iteration"] = iteration
        if "state" in iteration:  # a while's
            bound["state"] = iteration["state"]
    return bound


def _known_params(ctx: Services, run: RunRecord, step: str) -> dict[str, Any]:
    """The params of a step whose output is at hand: ``{}`` without a read for a step
    that declares none (none are stored), else read from its item."""
    if not ctx.definitions.get(run.workflow, run.version).step(step).params:
        return {}
    record = ctx.store.get_step(run.run_id, step)
    if record is None:
        return {}
    params: dict[str, Any] = resolve_output(ctx, record.params, f"steps.{step}.params") or {}
    return params


def iteration_of(ctx: Services, run: RunRecord) -> dict[str, Any] | None:
    """A loop iteration's values (``iteration``, a while's ``state`` in them), None for
    a run that is not an iteration: big ones are stored once as a payload
    (service.loops.stored_iteration) and the child run item keeps the reference."""
    if run.iteration is None:
        return None
    values: dict[str, Any] = resolve_output(ctx, run.iteration, "iteration")
    return values


def run_params(ctx: Services, run: RunRecord) -> dict[str, Any]:
    """A run's params: large ones are stored once as a payload (service.runs)."""
    params: dict[str, Any] = resolve_output(ctx, run.params, "params")
    return params


def step_bindings(ctx: Services, run: RunRecord, step: str, steps: Iterable[str]) -> dict[str, Any]:
    """What a step's own templates (payload, params, an approval's or a job's request)
    see: ``bindings_for`` plus, for a step with ``wait_for``, the signals that released
    it as ``signal``."""
    bindings = bindings_for(ctx, run, steps)
    signals = matched_signals(ctx, run, step)
    if signals:
        bindings["signal"] = signals
    return bindings


def matched_signals(ctx: Services, run: RunRecord, step: str) -> dict[str, Any]:
    """``signal`` as a step's templates read it: {name: {params, payload, ...}} of the
    signals that released it (service/signal_waits.py); empty without ``wait_for``."""
    spec = ctx.definitions.get(run.workflow, run.version).step(step)
    if not spec.wait_for:
        return {}
    record = ctx.store.get_step(run.run_id, step)
    if record is None or record.signals is None:
        return {}
    value = resolve_output(ctx, record.signals, "signal")
    return value if isinstance(value, dict) else {}


def resolve_output(ctx: Services, stored: Any, name: str = "output") -> Any:
    """A step's output as the step returned it: a payload reference is read back.
    Raises MissingPayload, naming the value (``steps.a.output``) and its reference, when
    the payload is gone."""
    if not is_ref(stored):
        return stored
    assert ctx.payloads is not None
    try:
        data = ctx.payloads.get(stored[REF_KEY])
    except NotFound as exc:
        raise MissingPayload(f"{name}: {exc}") from None
    return json.loads(data)


class EdgeConditions:
    """Evaluates the ``when`` of edges leaving one step; an error fails the run."""

    def __init__(
        self, ctx: Services, run: RunRecord, compiled: CompiledWorkflow, step: str, output: Any
    ) -> None:
        self._ctx, self._run, self._compiled = ctx, run, compiled
        self._step, self._output = step, output
        # The output at hand saves a read; a step with params is read (they are stored).
        self._output_known = (
            output is not None and not is_ref(output) and not compiled.step(step).params
        )
        self.failed = False

    def of(self, succ: str) -> bool | None:
        key = (succ, self._step)
        condition = self._compiled.expressions.conditions.get(key)
        if condition is None:
            return None
        reads = self._compiled.expressions.condition_steps.get(key, frozenset())
        known = {self._step: self._output} if self._output_known else None
        try:
            value = condition.evaluate(bindings_for(self._ctx, self._run, reads, known))
        except ExpressionError as exc:
            return self._fail(succ, exc.message)
        if not isinstance(value, bool):
            return self._fail(succ, f"must be true or false, got {type_label(value)}")
        return value

    def _fail(self, succ: str, message: str) -> bool:
        """The edge is not taken, and the run is flagged failing; a run that ended since
        it was read takes no flag (store.mark_run_failing), and is not seen as failing
        by what this propagation decides next."""
        error = f"{succ}: when on '{self._step}': {message}"
        log.warning("condition failed: %s", error)
        flagged = self._ctx.store.mark_run_failing(self._run.run_id, error, at=self._ctx.now())
        self.failed = self.failed or flagged
        return False


def render_step_params(ctx: Services, run: RunRecord, step: str) -> dict[str, Any]:
    """A step's params, rendered when it starts and type-checked where declared.
    Raises ExpressionError (a template failed, or a value has the wrong type), its
    message naming the param (``params.table: ...``): the step's error, as it is."""
    from podium.core.dsl.params import check_value
    from podium.core.expr import EvaluationError, LimitExceededError
    from podium.core.expr.json_values import to_json_value

    compiled = ctx.definitions.get(run.workflow, run.version)
    template = compiled.expressions.step_params.get(step)
    if template is None:
        return {}
    try:  # a failing template names its param (core.dsl.expressions compiled it so)
        values = template.render(step_bindings(ctx, run, step, template.steps_read))
    except LimitExceededError as exc:  # the whole map's size: no one param to name
        raise LimitExceededError(f"params: {exc.message}") from None
    assert isinstance(values, dict)
    for name, spec in compiled.step(step).param_types.items():
        checked, issue = check_value(spec, values.get(name), f"params.{name}")
        if issue is not None:
            raise EvaluationError(f"{issue.path}: {issue.message}")
        values[name] = checked
    # Stored on the step item and sent in a Lambda's event: JSON (a timestamp as RFC
    # 3339), or an ExpressionError naming the param (NaN) that fails the step.
    converted: dict[str, Any] = to_json_value(values, "params")
    return converted
