"""The lambda step: a synchronous invoke with the rendered payload (``module:function``
locally), keyed by ``run/step/attempt`` so the target can de-duplicate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.step_error import (
    StepError,
    platform_error,
    user_error,
)
from podium.core.expr import ExpressionError, LimitExceededError
from podium.core.expr.json_values import to_json_value
from podium.core.ports import Invocation
from podium.service.bindings import iteration_of, run_params, step_bindings
from podium.service.context import Services
from podium.service.runtimes.base import Attempt, Done, Failed, Result

LOST_WORKER = (
    "the worker running this attempt stopped before it recorded a result (a crash or a"
    " Lambda timeout)"
)


class LambdaRuntime:
    synchronous = True
    has_child_runs = False

    def wait_ms(self, spec: Any) -> int:
        return 0

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        spec = attempt.spec
        try:
            event = lambda_event(ctx, attempt)
        except ExpressionError as exc:  # its message names the field (payload.start)
            return Failed(user_error(exc.message, retryable=False))
        result = ctx.runner.invoke(
            Invocation(spec.function, event, attempt.key, timeout_seconds=spec.timeout)
        )
        log_ref = (
            {"function": spec.function, "request_id": result.request_id}
            if result.request_id
            else None
        )
        if result.ok:
            return Done(result.output, log_ref=log_ref)
        return Failed(
            StepError.of(
                result.error_type or "Podium.UserError",
                result.error or "failed",
                retryable=result.retryable,
                traceback=result.traceback,
            ),
            log_ref=log_ref,
        )

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self.poll(ctx, attempt)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        # A synchronous invoke has nothing to ask: if its worker is gone, so is the call.
        return Failed(platform_error(LOST_WORKER))

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        return None  # a synchronous invoke cannot be cancelled; its result is dropped


def lambda_event(ctx: Services, attempt: Attempt) -> dict[str, Any]:
    """The event an attempt's function gets. Everything in it is derived from what does
    not change once the attempt started (the run's params, the upstream outputs, the
    attempt number), so ``podium runs replay`` builds the same event again later, and so
    does an async start redone after its worker died (runtimes/callback.py).
    It is JSON (core.expr.json_values), so a local function gets what a deployed one
    would: a timestamp as its RFC 3339 string, never a ``datetime``.
    Raises ExpressionError when the payload cannot be rendered or has no JSON form."""
    run, spec = attempt.run, attempt.spec
    event = {
        "payload": _render_payload(ctx, attempt),
        "params": run_params(ctx, run),
        "run": {"id": run.run_id, "workflow": run.workflow, "version": run.version},
        "step": spec.id,
        "step_params": attempt.params,
        "attempt": attempt.number,
        "idempotency_key": attempt.key,
    }
    if run.iteration is not None:  # a loop iteration's step: its loop values
        event["iteration"] = iteration_of(ctx, run)
    converted: dict[str, Any] = to_json_value(event, where="")
    return converted


def _render_payload(ctx: Services, attempt: Attempt) -> Any:
    run = attempt.run
    compiled = ctx.definitions.get(run.workflow, run.version)
    template = compiled.expressions.payloads.get(attempt.spec.id)
    if template is None:
        return attempt.spec.payload
    try:  # a failing template names its field (core.dsl.expressions compiled it so)
        return template.render(step_bindings(ctx, run, attempt.step, template.steps_read))
    except LimitExceededError as exc:  # the whole payload's size: no one field to name
        raise LimitExceededError(f"payload: {exc.message}") from None
