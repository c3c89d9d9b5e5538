"""Waiting for a callback: ``wait_for_callback``, ``approval`` and ``lambda`` with
``invocation: async``. The attempt's token (core/engine/callbacks.py) is published on
the bus and kept in the run's timeline; the attempt holds no worker until a callback
(service/callbacks.py) arrives as a ``done`` message. ``heartbeat_seconds`` bounds the
silence between heartbeats, the step's ``timeout`` the whole wait.

A start is three calls, and a worker can die between any two: the token's event on the
bus, the outside work (an async lambda's ``Event`` invoke), and last the token's
timeline item, which is also the mark that the start completed (no write of its own).
A later look at the attempt (its claim message redelivered, a poll, a heartbeat check)
that finds no mark redoes the start once the worker that claimed the attempt is surely
gone (a worker's lease, ``ctx.lease_ms``, after the claim): a start cut short is
redone, a complete one never is. The claim's conditional write gave the first start to
one worker; a redo is taken the same way, by one conditional put of a ``start_redo``
item (keyed by the attempt's start and the redo's number), before it starts anything:
two looks that find the start cut short at once (a poll and the claim message
delivered again) redo it once, and the one that lost waits a lease for the redo's mark
(the redo's worker may die too: then the next redo is due). Only a worker that died
between the invoke and the mark leaves a function invoked twice, with the same event
(``idempotency_key``, ``callback_token``): no write can be made atomic with an invoke,
and Lambda runs ``Event`` invocations at least once anyway.

A callback's result is recorded once per attempt by the API before its ``done`` message
is sent (core/engine/callback_results.py): a poll, a heartbeat check or the step's
deadline (its timer, or the sweeper past its lease; for a result received by then) that
finds a recorded result ends the attempt with it, so a request that died between the
record and the message loses nothing, even when nothing looks at the attempt before its
timeout. A result carries when the API received it (its ``done`` message, its record):
one received after the step's deadline is a timeout however it is applied, so it does
not race the deadline's timer (whichever was handled first decided, before)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.callback_results import (
    RESULT_KIND,
    digest_of,
    in_time,
    result_detail,
    result_event_id,
)
from podium.core.engine.callbacks import (
    CALLBACK_EVENT,
    HEARTBEAT_CHECK_EVENT,
    fitted_token_detail,
    heartbeat_due,
    token_of,
)
from podium.core.engine.callbacks import (
    TOKEN_EVENT as TOKEN_EVENT,  # its home; the simulation and tests import it from here
)
from podium.core.engine.external import is_transient
from podium.core.engine.outputs import INLINE_OUTPUT_BYTES, REF_KEY, is_ref, ref_of
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.step_error import StepError, timeout_error, user_error
from podium.core.expr import ExpressionError
from podium.core.ports import EVENT_SOURCE as SOURCE
from podium.core.ports import Invocation
from podium.service import messages
from podium.service.context import Services
from podium.service.runtimes.base import Attempt, Done, Failed, Poll, Result, StartAgain, Waiting
from podium.service.runtimes.external import render_request
from podium.service.step_events import step_place, workflow_trigger


def heartbeat_event_id(step: str, attempt: int) -> str:
    return f"heartbeat-{step}-{attempt}"  # at the attempt's start: one item, overwritten


HEARTBEAT_AT = "last_at"  # in the heartbeat item's detail: when the last one came


def _heartbeat_of(events: Sequence[TimelineEvent], step: str, attempt: int) -> int | None:
    """When the attempt's last heartbeat came (an item written by an older release is
    keyed by its own time, without ``last_at``)."""
    event_id = heartbeat_event_id(step, attempt)
    times = [int(e.detail.get(HEARTBEAT_AT, e.at)) for e in events if e.event_id == event_id]
    return max(times) if times else None


def token_event_id(step: str, attempt: int) -> str:
    return f"callback-{step}-{attempt}"  # the token in the timeline: the start's mark


REDO_KIND = "start_redo"


def redo_event_id(step: str, attempt: int, redo: int) -> str:
    return f"start-redo-{step}-{attempt}-{redo}"  # put once: the redo's conditional write


def latest_redo(
    events: Sequence[TimelineEvent], step: str, attempt: int, started_at: int
) -> tuple[int, int] | None:
    """The latest redo taken of this start of the attempt: (its number, when taken)."""
    taken = [
        (int(e.detail["redo"]), int(e.detail["taken_at"]))
        for e in events
        if e.kind == REDO_KIND and e.step == step and e.attempt == attempt and e.at == started_at
    ]
    return max(taken) if taken else None


def result_mark(
    ctx: Services, run_id: str, step: str, attempt: int, started_at: int, result: dict[str, Any]
) -> TimelineEvent:
    """The item that records a callback's result for the attempt (put once: its key is
    the attempt's start and the result's id). A result too big for a timeline item is
    written to Payloads first, under a key of its digest (a losing one changes nothing
    the winner wrote)."""
    digest = digest_of(result)
    data = json.dumps(result, separators=(",", ":"), default=str).encode()
    ref = None
    if len(data) > INLINE_OUTPUT_BYTES and ctx.payloads is not None:
        key = f"{run_id}/{step}/{attempt}/callback-{digest[:32]}.json"
        ref = ref_of(ctx.payloads.put(key, data), len(data))
    return TimelineEvent(
        run_id,
        started_at,
        result_event_id(step, attempt),
        RESULT_KIND,
        step=step,
        attempt=attempt,
        detail=result_detail(result, digest, ctx.now(), ref=ref),
    )


def recorded_result(ctx: Services, mark: TimelineEvent) -> dict[str, Any] | None:
    """The result a mark recorded (read from Payloads when it was big)."""
    inline = mark.detail.get("result")
    if isinstance(inline, dict):
        return inline
    ref = mark.detail.get("result_ref")
    if isinstance(ref, dict) and is_ref(ref) and ctx.payloads is not None:
        loaded = json.loads(ctx.payloads.get(str(ref[REF_KEY])))
        return loaded if isinstance(loaded, dict) else None
    return None


def received_of(mark: TimelineEvent) -> int | None:
    """When the API received the result a mark recorded."""
    received = mark.detail.get("received_at")
    return received if isinstance(received, int) else None


def find_result_mark(
    events: Sequence[TimelineEvent], step: str, attempt: int, started_at: int | None
) -> TimelineEvent | None:
    """The recorded result of the attempt that started at ``started_at`` (None: of any
    start of that attempt number, the latest; a step reopened by an operator starts its
    attempts afresh, with new marks)."""
    wanted = result_event_id(step, attempt)
    found = [
        e for e in events if e.event_id == wanted and (started_at is None or e.at == started_at)
    ]
    return max(found, key=lambda e: e.at) if found else None


def _aws_error(exc: BaseException) -> tuple[str, str, int | None]:
    """The code, message and HTTP status of an AWS API's refusal (botocore's
    ``ClientError`` carries its answer as ``response``); no code: not such a refusal."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", str(exc), None
    error = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return (
        str(error.get("Code") or ""),
        str(error.get("Message") or exc),
        status if isinstance(status, int) else None,
    )


def _time_of(events: Sequence[TimelineEvent], event_id: str) -> int | None:
    times = [e.at for e in events if e.event_id == event_id]
    return max(times) if times else None


class CallbackRuntime:
    synchronous = False
    has_child_runs = False

    def wait_ms(self, spec: Any) -> int:
        timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
        return int(float(timeout) * 1000)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        """Publish the token, start the outside work, then mark the start complete (the
        token's timeline item). Redone whole by ``poll`` when no mark was left."""
        try:
            published = self.published(ctx, attempt)
        except ExpressionError as exc:
            return Failed(user_error(exc.message, retryable=False))
        # First, so that a start cut short (its claim message never comes back: a
        # successor claimed in-process has none) is looked at again after one interval.
        self._check_heartbeat_at(ctx, attempt, ctx.now())
        token = token_of(attempt.key)
        run, spec = attempt.run, attempt.spec
        detail = {
            "token": token,
            # Where the step is, and its run's trigger and chain: a bus: podium trigger
            # on token events is a link of a chain as one on status changes is.
            **step_place(run, attempt.step, workflow_trigger(ctx, run)),
            "attempt": attempt.number,
            # The attempt's start: the same on a redone start, whose event (published
            # again) then starts no second run of such a trigger (triggers._event_time).
            "at": attempt.started_at,
            "type": spec.type,
            **published,
            **({"approvers": list(spec.approvers)} if spec.type == "approval" else {}),
        }
        # The bus tells the world. Before the outside work, so that the one window where
        # a crash makes a redo repeat that work (between it and the mark) is short.
        refused = self._publish(ctx, attempt, detail)
        if refused is not None:
            return refused
        failed = self.begin(ctx, attempt)
        if failed is not None:
            return failed
        # Last: the timeline keeps the token (podium runs show, the console), and its item
        # says the start completed (``poll`` redoes a start that left none).
        ctx.store.put_event(
            TimelineEvent(
                run.run_id,
                ctx.now(),
                token_event_id(attempt.step, attempt.number),
                "callback_token",
                step=attempt.step,
                attempt=attempt.number,
                detail=detail,
            )
        )
        return Waiting()

    def published(self, ctx: Services, attempt: Attempt) -> dict[str, Any]:
        """What the token event carries besides the token (the step's payload or
        message, rendered)."""
        return render_request(ctx, attempt)

    def _publish(self, ctx: Services, attempt: Attempt, detail: dict[str, Any]) -> Failed | None:
        """Put the token's event on the bus, fitted to its entry limit (a payload too
        big for it is left out, ``payload_omitted``: the timeline keeps it). A refusal
        for good (a ValidationException, access denied) fails the attempt at once,
        not retried: raised, the start would be redone and refused again until the
        step's timeout, which then says nobody called back. A refusal that may pass
        (throttled, the service's fault, no answer) raises: the start is redone."""
        assert ctx.events is not None
        event = {"detail-type": TOKEN_EVENT, "detail": fitted_token_detail(SOURCE, detail)}
        try:
            ctx.events.publish([event])
        except Exception as exc:
            code, message, status = _aws_error(exc)
            if not code or is_transient(code, status):
                raise
            return Failed(
                StepError.of(
                    "Podium.ConfigError",
                    f"the bus refused the callback token's event ({code}: {message}):"
                    f" nobody was told the token of step '{attempt.step}', so it cannot"
                    " wait for its callback",
                    retryable=False,
                    details={"code": code},
                )
            )
        return None

    def begin(self, ctx: Services, attempt: Attempt) -> Failed | None:
        """What starts the outside work (an async lambda invokes its function). Called
        again, with the same inputs, when its worker died before the start's mark."""
        return None

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        kind = event.get("kind")
        if kind == CALLBACK_EVENT:
            received = event.get("received_at")
            return self._result(attempt, event, received if isinstance(received, int) else None)
        if isinstance(kind, str) and kind.startswith(HEARTBEAT_CHECK_EVENT):
            return self._heartbeat_check(ctx, attempt)
        return Waiting()

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        """The callback is the only news, but the start may have been cut short: its
        claim message came back (or this poll was set by one that came too early). A
        start with no mark is redone; a complete one re-arms the heartbeat check (its
        worker may have died before scheduling it)."""
        events = ctx.store.list_events(attempt.run.run_id)
        decided = self._recorded(ctx, attempt, events)
        if decided is not None:  # its done message was lost with the request that sent it
            return decided
        begun = _time_of(events, token_event_id(attempt.step, attempt.number))
        if begun is None:
            return self._redo_start(ctx, attempt, events)
        heartbeat = _heartbeat_of(events, attempt.step, attempt.number)
        self._check_heartbeat_at(ctx, attempt, max(begun, heartbeat or 0))
        return Waiting()

    def redo_start(self, ctx: Services, attempt: Attempt, redo: int) -> Result:
        """Redo a start cut short (``RedoesStarts``), as the work function does when a
        look said ``StartAgain(redo)``: first take redo number ``redo`` with one
        conditional put, then start. Taken already, by a look racing this one (the
        same number, counted from the same marks): that one starts it, and this one
        looks again once its worker is surely gone."""
        now = ctx.now()
        taken, created = ctx.store.put_event_once(
            TimelineEvent(
                attempt.run.run_id,
                attempt.started_at,  # this start of the attempt: a reopened step's is new
                redo_event_id(attempt.step, attempt.number, redo),
                REDO_KIND,
                step=attempt.step,
                attempt=attempt.number,
                detail={"redo": redo, "taken_at": now},
            )
        )
        if not created:
            return self._look_again(ctx, int(taken.detail["taken_at"]) + ctx.lease_ms)
        return self.start(ctx, attempt)

    def recorded_result(self, ctx: Services, attempt: Attempt, *, by: int) -> Result | None:
        """The result the API recorded for this attempt at or before ``by`` (its
        deadline; ``KeepsResults``): asked by the deadline path before it times the
        attempt out. One received after it is a timeout, as its done is."""
        events = ctx.store.list_events(attempt.run.run_id)
        mark = find_result_mark(events, attempt.step, attempt.number, attempt.started_at)
        if mark is None or not in_time(mark.detail, by):
            return None
        decided = recorded_result(ctx, mark)
        if decided is None:
            return None
        return self._result(attempt, decided, received_of(mark))

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        return None  # a later callback finds the attempt closed

    # ------------------------------------------------------------------------------
    def _redo_start(
        self, ctx: Services, attempt: Attempt, events: Sequence[TimelineEvent]
    ) -> Result:
        """The start left no mark. Its worker may still be at it (a duplicate delivery
        of the claim; or of the latest redo, whose worker took it): until a worker's
        lease has passed since the claim (or that redo was taken), look again then.
        After that the worker is gone (a Lambda lives 15 minutes at most), and the
        start is redone by the work function (a heartbeat check or a poll comes to the
        advance function, which may not invoke a Lambda function), as the next redo,
        which one look takes (``redo_start``)."""
        latest = latest_redo(events, attempt.step, attempt.number, attempt.started_at)
        redo, since = latest if latest is not None else (0, attempt.started_at)
        gone_at = since + ctx.lease_ms
        if ctx.now() < gone_at:
            return self._look_again(ctx, gone_at)
        return StartAgain(redo + 1)

    def _look_again(self, ctx: Services, at: int) -> Result:
        return Poll(max(1, math.ceil((at - ctx.now()) / 1000)))

    def _recorded(
        self, ctx: Services, attempt: Attempt, events: Sequence[TimelineEvent]
    ) -> Result | None:
        """The result the API recorded for this attempt, if one came."""
        mark = find_result_mark(events, attempt.step, attempt.number, attempt.started_at)
        decided = recorded_result(ctx, mark) if mark is not None else None
        if mark is None or decided is None:
            return None
        return self._result(attempt, decided, received_of(mark))

    def _result(
        self, attempt: Attempt, event: Mapping[str, Any], received_at: int | None = None
    ) -> Result:
        """The attempt's result, known at ``received_at`` (when the API received it: one
        received past a deadline is a timeout, ``attempts.apply_result``)."""
        if event.get("success"):
            return Done(self.output(attempt, event), at=received_at, callback=True)
        error_type = str(event.get("error_type") or "Podium.CallbackFailed")
        message = str(event.get("error") or "failed by a callback")
        details = {k: event[k] for k in ("by", "by_name", "comment") if event.get(k) is not None}
        error = StepError.of(error_type, message, retryable=True, details=details)
        return Failed(error, at=received_at, callback=True)

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
        events = ctx.store.list_events(attempt.run.run_id)
        decided = self._recorded(ctx, attempt, events)
        if decided is not None:  # a result came: its done message was lost
            return decided
        begun = _time_of(events, token_event_id(attempt.step, attempt.number))
        if begun is None:  # nobody was told: no silence to blame
            return self._redo_start(ctx, attempt, events)
        # The silence counts from the later of the start's mark (a redone start gives
        # the work a whole interval) and the last heartbeat.
        heartbeat = _heartbeat_of(events, attempt.step, attempt.number)
        since = max(begun, heartbeat or 0)
        due = heartbeat_due(attempt.started_at, since, interval)
        if ctx.now() < due:
            self._check_heartbeat_at(ctx, attempt, since)  # a heartbeat came
            return Waiting()
        return Failed(
            timeout_error(f"no heartbeat or result for {interval // 1000} s (heartbeat_seconds)"),
            yields_to_result=True,
        )


class ApprovalRuntime(CallbackRuntime):
    """A person's decision: approved (the step succeeds, with who and a comment) or
    rejected (it fails, not retried)."""

    def output(self, attempt: Attempt, event: Mapping[str, Any]) -> Any:
        decided = {"approved": True, "by": event.get("by"), "comment": event.get("comment")}
        if event.get("by_name") is not None:  # ``by`` is the identity that was checked
            decided["by_name"] = event["by_name"]
        return decided

    def _result(
        self, attempt: Attempt, event: Mapping[str, Any], received_at: int | None = None
    ) -> Result:
        if event.get("success"):
            return Done(self.output(attempt, event), at=received_at, callback=True)
        by, reason, comment = event.get("by"), event.get("error"), event.get("comment")
        # The rejection's message (--fail) and its comment both: neither hides the other.
        message = f"rejected by {by}" if by else "rejected"
        if reason:
            message += f": {reason}"
        if comment:
            message += f" (comment: {comment})"
        details = {"by": by, "comment": comment, "error": reason}
        if event.get("by_name") is not None:
            details["by_name"] = event["by_name"]
        error = StepError.of("Podium.Rejected", message, retryable=False, details=details)
        return Failed(error, at=received_at, callback=True)


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
        except ExpressionError as exc:  # its message names the field (payload.start)
            return Failed(user_error(exc.message, retryable=False))
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
