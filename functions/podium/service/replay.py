"""Replay an attempt: the exact event a lambda step's attempt got (run params, step
params, the payload rendered from the upstream outputs it read, attempt number and
idempotency key), and what was recorded for it, so ``podium runs replay`` runs the same
function on a developer's machine and shows both results side by side.

The event is built again from state that does not change once the attempt started; a
payload or step param that reads the clock (``now``) renders anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.engine.errors import NotFound
from podium.core.expr import ExpressionError
from podium.core.ports import FunctionRunner, Invocation
from podium.service.api_requests import step_choices
from podium.service.attempts import with_params
from podium.service.bindings import resolve_output
from podium.service.context import Services
from podium.service.runtimes.base import Attempt
from podium.service.runtimes.lambda_fn import lambda_event


class UnknownStep(NotFound):
    """A step the run's workflow does not have (a 404 naming those it has, as logs and
    iterations answer one; it was a 400)."""


class StepNotReached(NotFound):
    def __init__(self, run_id: str, step: str) -> None:
        super().__init__(f"step '{step}' of run '{run_id}' has not started an attempt")


@dataclass(frozen=True)
class ReplayInput:
    run_id: str
    step: str
    attempt: int
    function: str
    event: dict[str, Any]
    # {"status", "output", "error", "error_type"}; "output_missing": why the recorded
    # output is its reference (its payload is gone)
    recorded: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "step": self.step,
            "attempt": self.attempt,
            "function": self.function,
            "event": self.event,
            "recorded": self.recorded,
        }


def replay_input(ctx: Services, run_id: str, step: str, attempt: int | None = None) -> ReplayInput:
    run = ctx.store.get_run(run_id)
    compiled = ctx.definitions.get(run.workflow, run.version)
    if step not in compiled.graph.predecessors:  # 404, as logs and iterations answer it
        known = [s.id for s in compiled.definition.steps]
        raise UnknownStep(f"no step {step!r} in run {run_id}{step_choices(step, known)}")
    spec = compiled.step(step)
    if spec.type != "lambda":
        raise DefinitionError(
            [Issue("step", f"{step} is a {spec.type} step; replay runs lambda steps")]
        )
    record = ctx.store.get_step(run_id, step)
    if record is None or record.attempt < 1:
        raise StepNotReached(run_id, step)
    number = record.attempt if attempt is None else attempt
    if not 1 <= number <= record.attempt:
        raise DefinitionError(
            [Issue("attempt", f"{step} ran attempts 1 to {record.attempt}, not {number}")]
        )
    started = record.started_at if record.started_at is not None else run.created_at
    shell = Attempt(run, spec, step, number, started)
    try:
        event = lambda_event(ctx, with_params(ctx, shell))
    except ExpressionError as exc:
        raise DefinitionError([Issue("step", f"the payload cannot be rendered: {exc}")]) from None
    return ReplayInput(run_id, step, number, spec.function, event, _recorded(ctx, record, number))


def _recorded(ctx: Services, record: Any, number: int) -> dict[str, Any]:
    if number == record.attempt and record.status.terminal:
        recorded = {
            "status": record.status.value,
            "output": record.output,
            "error": record.error,
            "error_type": record.error_type,
        }
        try:
            recorded["output"] = resolve_output(ctx, record.output, "the recorded output")
        except NotFound as exc:  # bindings.MissingPayload: expired, or pruned
            # The event never holds the step's own output: the attempt is replayed all
            # the same, the recorded output shown as its reference with why, as the
            # console shows a value that is gone (and ``output_missing`` says why).
            recorded["output"] = {**record.output, "missing": str(exc)}
            recorded["output_missing"] = str(exc)
        return recorded
    for event in ctx.store.list_events(record.run_id):
        if (
            event.step == record.step
            and event.attempt == number
            and event.kind
            in (
                "retry",
                "failed",
            )
        ):
            detail = event.detail.get("error_detail") or {}
            return {
                "status": "FAILED",
                "output": None,
                "error": event.detail.get("error"),
                "error_type": detail.get("type"),
            }
    return {"status": record.status.value, "output": None, "error": None, "error_type": None}


def run_again(runner: FunctionRunner, replay: ReplayInput) -> dict[str, Any]:
    """Call the function with the recorded event (the caller's runner plays it)."""
    key = f"{replay.run_id}/{replay.step}/{replay.attempt}"
    result = runner.invoke(Invocation(replay.function, replay.event, key))
    return {
        "status": "SUCCEEDED" if result.ok else "FAILED",
        "output": result.output if result.ok else None,
        "error": result.error,
        "error_type": result.error_type,
        "traceback": result.traceback,
    }


def same_outcome(recorded: dict[str, Any], replayed: dict[str, Any]) -> bool:
    """Both succeeded with equal outputs, or both failed with the same error type (a
    recorded output whose payload is gone is equal to none: the sameness is unknown)."""
    if replayed["status"] == "SUCCEEDED":
        if recorded.get("output_missing"):
            return False
        return recorded["status"] == "SUCCEEDED" and bool(recorded["output"] == replayed["output"])
    failed_too = bool(recorded["status"] != "SUCCEEDED")
    return failed_too and bool(recorded.get("error_type") == replayed["error_type"])


__all__ = [
    "ReplayInput",
    "StepNotReached",
    "UnknownStep",
    "replay_input",
    "run_again",
    "same_outcome",
]
