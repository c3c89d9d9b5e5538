"""What an attempt of a deployed lambda step printed: found through the log reference
its attempt recorded (the function and the invocation's request id), read from the
function's CloudWatch log stream. Locally, the home keeps each attempt's output itself
(`podium runs logs`)."""

from __future__ import annotations

from typing import Any

from podium.core.engine.attempt_history import attempts_of
from podium.core.engine.errors import NotFound
from podium.service.api_requests import NoSuchStep, step_choices
from podium.service.context import Services


class NoLogs(NotFound):
    pass


def attempt_logs(ctx: Services, run_id: str, step: str, attempt: int | None) -> dict[str, Any]:
    """The last attempt's logs, or attempt ``attempt``'s: an earlier one is one of the
    step's attempt list (``attempt_history.attempts_of``: a retried attempt, or one that
    failed for good before an operator retried the step in place), its reference on the
    timeline item that recorded it."""
    record = ctx.store.get_step(run_id, step)
    if record is None:
        run = ctx.store.get_run(run_id)  # RunNotFound (404) when the run does not exist
        compiled = ctx.definitions.get(run.workflow, run.version)
        if step not in compiled.graph.predecessors:  # a typo: name what exists
            known = [s.id for s in compiled.definition.steps]
            raise NoSuchStep(
                f"run {run_id} has no step {step!r}{step_choices(step, known)}", "query.step"
            )
        raise NoLogs(f"run {run_id} has no step {step!r} yet: it has not started")
    number = attempt if attempt is not None else record.attempt
    ref, started, ended = record.log_ref, record.started_at, record.ended_at
    if number != record.attempt:
        events = [e for e in ctx.store.list_events(run_id) if e.step == step]
        listed = next((a for a in attempts_of(record, events) if a.attempt == number), None)
        if listed is None:
            raise NoLogs(f"step '{step}' has no attempt {number}")
        started, ended = listed.started_at, listed.ended_at
        ref = next(
            (
                e.detail["log_ref"]
                for e in events
                if e.attempt == number and e.detail.get("log_ref")
            ),
            None,
        )
    if not ref:
        raise NoLogs(
            f"attempt {number} of '{step}' recorded no Lambda invocation (not a lambda step,"
            " not started, or run locally: read a local run's logs from its home)"
        )
    if ctx.logs is None:
        raise NoLogs("this deployment has no log reader configured")
    now = ctx.now()
    text = ctx.logs.read(
        ref["function"],
        ref["request_id"],
        int(started if started is not None else now),
        int(ended if ended is not None else now),
    )
    return {
        "run_id": run_id,
        "step": step,
        "attempt": number,
        "function": ref["function"],
        "request_id": ref["request_id"],
        "text": text,
    }
