"""Waiting for a callback: ``wait_for_callback``, ``approval`` and ``lambda`` with
``invocation: async``. The attempt's token (core/engine/callbacks.py) is published on
the bus and kept in the run's timeline; the attempt holds no worker until a callback
(service/callbacks.py) arrives as a ``done`` message. ``heartbeat_seconds`` bounds the
silence between heartbeats, the step's ``timeout`` the whole wait."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.callbacks import (
    CALLBACK_EVENT,
    HEARTBEAT_CHECK_EVENT,
    heartbeat_due,
    token_of,
)
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.step_error import StepError, timeout_error, user_error
from podium.core.expr import ExpressionError
from podium.core.ports import Invocation
from podium.service import messages
from podium.service.context import Services
from podium.service.runtimes.base import Attempt, Done, Failed, Result, Waiting
from podium.service.runtimes.external import render_request

TOKEN_EVENT = "Podium Callback Token"


def heartbeat_event_id(step: str, attempt: int) -> str:
    return f"heartbeat-{step}-{attempt}"  # overwritten by each heartbeat: one item


def last_heartbeat(ctx: Services, attempt: Attempt) -> int | None:
    wanted = heartbeat_event_id(attempt.step, attempt.number)
    times = [e.at for e in ctx.store.list_events(attempt.run.run_id) if e.event_id == wanted]
    return max(times) if times else None


class CallbackRuntime:
    synchronous = False
    has_child_runs = False

    def wait_ms(self, spec: Any) -> int:
        timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
        return int(float(timeout) * 1000)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        try:
            published = self.published(ctx, attempt)
        except ExpressionError as exc:
            return Failed(user_error(exc.message, retryable=False))
        failed = self.begin(ctx, attempt)
        if failed is not None:
            return failed
        token = token_of(attempt.key)
        run, spec = attempt.run, attempt.spec
        detail = {
            "token": token,
            "run_id": run.run_id,
            "workflow": run.workflow,
            "step": attempt.step,
            "attempt": attempt.number,
            "type": spec.type,
            **published,
            **({"approvers": list(spec.approvers)} if spec.type == "approval" else {}),
        }
        # The timeline keeps it (podium runs show, the console); the bus tells the world.
        ctx.store.put_event(
            TimelineEvent(
                run.run_id,
                ctx.now(),
                f"callback-{attempt.step}-{attempt.number}",
                "callback_token",
                step=attempt.step,
                attempt=attempt.number,
                detail=detail,
            )
        )
        assert ctx.events is not None
        ctx.events.publish([{"detail-type": TOKEN_EVENT, "detail": detail}])
        self._check_heartbeat_at(ctx, attempt, attempt.started_at)
        return Waiting()

    def published(self, ctx: Services, attempt: Attempt) -> dict[str, Any]:
        """What the token event carries besides the token (the step's payload or
        message, rendered)."""
        return render_request(ctx, attempt)

    def begin(self, ctx: Services, attempt: Attempt) -> Failed | None:
        """What starts the outside work (an async lambda invokes its function)."""
        return None

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        kind = event.get("kind")
        if kind == CALLBACK_EVENT:
            return self._result(attempt, event)
        if isinstance(kind, str) and kind.startswith(HEARTBEAT_CHECK_EVENT):
            return self._heartbeat_check(ctx, attempt)
        return Waiting()

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        # Nothing to ask: the callback is the only news. A redelivered claim re-arms the
        # heartbeat check (its worker may have died before scheduling it).
        self._check_heartbeat_at(ctx, attempt, last_heartbeat(ctx, attempt))
        return Waiting()

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        return None  # a later callback finds the attempt closed

    # ------------------------------------------------------------------------------
    def _result(self, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        if event.get("success"):
            return Done(self.output(attempt, event))
        error_type = str(event.get("error_type") or "Podium.CallbackFailed")
        message = str(event.get("error") or "failed by a callback")
        details = {k: event[k] for k in ("by", "comment") if event.get(k) is not None}
        return Failed(StepError.of(error_type, message, retryable=True, details=details))

    def output(self, attempt: Attempt, event: Mapping[str, Any]) -> Any:
        return event.get("output")

    def _heartbeat_ms(self, attempt: Attempt) -> int | None:
        seconds = getattr(attempt.spec, "heartbeat_seconds", None)
        return int(seconds) * 1000 if seconds else None

    def _check_heartbeat_at(self, ctx: Services, attempt: Attempt, since: int | None) -> None:
        interval = self._heartbeat_ms(attempt)
        if interval is None:
            return
        due = heartbeat_due(attempt.started_at, since, interval)
        # The due time is part of the kind, so each check is a timer of its own (a
        # timer's dedup key is its kind: a long one is a named Scheduler schedule).
        kind = f"{HEARTBEAT_CHECK_EVENT}@{due}"
        check = messages.Done(attempt.run.run_id, attempt.step, attempt.number, {"kind": kind})
        ctx.at(check, due, queue="events")

    def _heartbeat_check(self, ctx: Services, attempt: Attempt) -> Result:
        interval = self._heartbeat_ms(attempt)
        if interval is None:
            return Waiting()
        due = heartbeat_due(attempt.started_at, last_heartbeat(ctx, attempt), interval)
        if ctx.now() < due:
            self._check_heartbeat_at(ctx, attempt, due - interval)  # a heartbeat came
            return Waiting()
        return Failed(
            timeout_error(f"no heartbeat or result for {interval // 1000} s (heartbeat_seconds)")
        )


class ApprovalRuntime(CallbackRuntime):
    """A person's decision: approved (the step succeeds, with who and a comment) or
    rejected (it fails, not retried)."""

    def output(self, attempt: Attempt, event: Mapping[str, Any]) -> Any:
        return {"approved": True, "by": event.get("by"), "comment": event.get("comment")}

    def _result(self, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        if event.get("success"):
            return Done(self.output(attempt, event))
        by = event.get("by")
        message = f"rejected by {by}" if by else "rejected"
        if event.get("comment") or event.get("error"):
            message += f": {event.get('comment') or event.get('error')}"
        details = {"by": by, "comment": event.get("comment")}
        return Failed(StepError.of("Podium.Rejected", message, retryable=False, details=details))


class AsyncLambdaRuntime(CallbackRuntime):
    """``lambda`` with ``invocation: async``: an Event invoke whose event carries
    ``callback_token``; the function (or what it starts) calls back, so a job longer than
    a worker's budget holds no worker."""

    def published(self, ctx: Services, attempt: Attempt) -> dict[str, Any]:
        return {"function": attempt.spec.function}

    def begin(self, ctx: Services, attempt: Attempt) -> Failed | None:
        from podium.service.runtimes.lambda_fn import lambda_event

        try:
            event = {**lambda_event(ctx, attempt), "callback_token": token_of(attempt.key)}
        except ExpressionError as exc:
            return Failed(user_error(f"payload: {exc.message}", retryable=False))
        invoke_async = getattr(ctx.runner, "invoke_async", None)
        if invoke_async is None:
            return Failed(
                StepError.of(
                    "Podium.ConfigError",
                    "this runtime cannot invoke functions asynchronously",
                    retryable=False,
                )
            )
        result = invoke_async(Invocation(attempt.spec.function, event, attempt.key))
        if result.ok:
            return None
        return Failed(
            StepError.of(
                result.error_type or "Podium.UserError",
                result.error or "the invocation failed",
                retryable=result.retryable,
            )
        )
