"""Sending signals: from the CLI and the API, from a step's ``emit`` once it succeeded,
and from events on Podium's bus with detail-type ``podium.signal``.

A signal is stored first (once: service/signal_waits.py explains the order), then every
step waiting for its name is woken with a ``signals`` message on the event queue.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.engine.records import RunRecord
from podium.core.engine.request_ids import RequestIdReused, differing, fingerprint
from podium.core.engine.signals import (
    MAX_REQUEST_ID,
    Signal,
    SignalRequest,
    check_request,
    new_signal,
)
from podium.core.engine.status import StepStatus
from podium.core.expr import ExpressionError
from podium.core.expr.json_values import to_json_value
from podium.service import messages
from podium.service.bindings import bindings_for, matched_signals
from podium.service.context import Services
from podium.service.gone_runs import still_there

if TYPE_CHECKING:
    from podium.service.signal_triggers import TriggerFailure

log = logging.getLogger("podium.signals")

BUS_DETAIL_TYPE = "podium.signal"


@dataclass(frozen=True, slots=True)
class SentSignal:
    """A sent signal as its sender is answered (POST /signals, ``podium signal send``):
    the signal stored, whether this send stored it, and the signal triggers that could
    not start their run for it (each also its trigger's last failure)."""

    signal: Signal
    created: bool
    failed: list[TriggerFailure] = field(default_factory=list)
    # A signal trigger raised on it (an outage), told to no sender that raises
    # (RETRIED): sending it again retries the trigger (signal_triggers.on_signal).
    unfinished: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            **self.signal.as_json(),
            "created": self.created,
            "failed": [f.as_json() for f in self.failed],
        }


def send_signal(ctx: Services, request: SignalRequest) -> tuple[Signal, bool]:
    """Store the signal (or find it stored: same request id, or same name and params)
    and wake the steps waiting for its name. Returns (signal, created). Raises
    DefinitionError for a bad name, param or payload."""
    sent = send_and_answer(ctx, request)
    return sent.signal, sent.created


def send_and_answer(ctx: Services, request: SignalRequest) -> SentSignal:
    """send_signal, answered with the signal triggers' failures too (SentSignal)."""
    assert ctx.signals is not None
    stored, created = ctx.signals.send(new_signal(request, ctx.now()))
    if not created and request.request_id is not None:
        _check_same_body(stored, request)
    # Woken also for a repeat: the first send may have died before waking anyone.
    wake(ctx, stored.name)
    from podium.service.signal_triggers import on_signal  # triggers start runs: imports runs

    # Signal triggers (each signal consumed once per trigger). A trigger's failure is
    # on its state; a sender that waits for an answer is answered with the failures
    # recorded, and a trigger's exception is raised to every sender that sends again.
    offered = on_signal(ctx, stored, raises=request.source in RETRIED, created=created)
    ctx.metrics.count("SignalsSent" if created else "SignalsDuplicate")
    return SentSignal(stored, created, offered.failed, offered.unfinished)


ANSWERED = frozenset({"api", "cli"})
"""Senders that wait for an answer: a request id they reuse with another body is
refused (409). The bus and emits have no one to tell: the first signal stays, logged."""

RETRIED = ANSWERED | {"bus"}
"""Senders that send the signal again when its send raises: the API's and the CLI's
caller, told; Lambda, which retries a bus event twice (then the trigger DLQ), as it does
an s3 or event trigger's start that raised. An emit is not: raised, it would hold its
step's completion (until the message dead-letters, the run wedged); it is sent again
by a delayed ``emit`` message (``emit_signals``)."""


def _check_same_body(stored: Signal, request: SignalRequest) -> None:
    """The same request id (and name) again: a retry when it sends the same params,
    payload and TTL; otherwise a reused id (core/engine/request_ids.py). The stored
    signal holds its whole body, so a signal stored before this check is compared too."""
    kept = {
        "params": stored.params,
        "payload": stored.payload,
        "ttl_days": stored.expires_at - stored.sent_at,
    }
    sent = {"params": request.params, "payload": request.payload, "ttl_days": request.ttl_ms}
    differ = differing(fingerprint(kept), fingerprint(sent))
    if not differ:
        return
    assert request.request_id is not None
    if request.source in ANSWERED:
        raise RequestIdReused(request.request_id, differ)
    log.warning(
        "signal %s from %s: request id %s was used with another body (%s); the first kept",
        request.name,
        request.source,
        request.request_id,
        ", ".join(differ),
    )


def wake(ctx: Services, name: str) -> int:
    assert ctx.signals is not None
    waiters = ctx.signals.waiters(name, ctx.now())
    if waiters:
        ctx.event_queue.send_many(
            [messages.encode(messages.SignalCheck(w.run_id, w.step)) for w in waiters]
        )
    return len(waiters)


def request_from_json(body: Any, *, where: str = "body", source: str = "api") -> SignalRequest:
    """``{name, params?, payload?, request_id?, ttl_days?}`` as a request; raises
    DefinitionError naming the place."""
    if not isinstance(body, Mapping):
        raise DefinitionError(
            [Issue(where, 'send an object: {"name": ..., "params": {...}, "payload": ...}')]
        )
    unknown = sorted(set(body) - {"name", "params", "payload", "request_id", "ttl_days"})
    if unknown:
        raise DefinitionError(
            [
                Issue(
                    f"{where}.{unknown[0]}",
                    "unknown field; the fields are name, params, payload, request_id, ttl_days",
                )
            ]
        )
    name = body.get("name")
    if not isinstance(name, str):
        raise DefinitionError([Issue(f"{where}.name", "name the signal (a string)")])
    params = body.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):  # [], "", 0, false were taken as no params
        raise DefinitionError(
            [Issue(f"{where}.params", "must be a map of param names to values, e.g. {day: x}")]
        )
    ttl_days = body.get("ttl_days", 90)
    if isinstance(ttl_days, bool) or not isinstance(ttl_days, int) or not 1 <= ttl_days <= 365:
        raise DefinitionError([Issue(f"{where}.ttl_days", "must be an int from 1 to 365")])
    request_id = body.get("request_id")
    request = SignalRequest(
        name=name,
        params=params,
        payload=body.get("payload"),
        request_id=request_id,
        ttl_ms=ttl_days * 86_400_000,
        source=source,
    )
    check_request(request, where=where)  # named as the caller wrote it (body.params.x)
    return request


def signal_from_bus(ctx: Services, event: Mapping[str, Any]) -> tuple[Signal, bool]:
    """An EventBridge event with detail-type ``podium.signal``: its detail is the signal.
    Without a request id it is identified by its name and params, as one sent to the API
    is: a redelivered event, and a producer's retried PutEvents (a new event id, the same
    content), are one signal."""
    request = request_from_json(event.get("detail"), where="detail", source="bus")
    return send_signal(ctx, request)


def emit_signals(
    ctx: Services, run: RunRecord, step: str, output: Any = None, *, looks: int = 0
) -> int:
    """A succeeded step's ``emit`` list, each sent once: the request id names the run,
    the step and the entry, so a replayed success sends nothing new. A template that
    cannot be rendered is logged and that signal skipped (the step already succeeded).
    A signal a trigger raised on is sent again later (``_emit_again``; ``looks``: the
    ``emit`` messages of this step so far)."""
    compiled = ctx.definitions.get(run.workflow, run.version)
    template = compiled.expressions.emits.get(step)
    if template is None:
        return 0
    known = {step: output} if output is not None else None
    try:
        # A value it reads may be gone (bindings.MissingPayload): logged and skipped too.
        bindings = bindings_for(ctx, run, template.steps_read, known)
        signals = matched_signals(ctx, run, step)
        if signals:
            bindings["signal"] = signals
        # Signals are stored as JSON: a timestamp as RFC 3339 (it was refused as "not
        # JSON"), NaN refused naming its field.
        rendered = to_json_value(template.render(bindings), "emit")
    except ExpressionError as exc:
        log.warning("emit of %s/%s not rendered: %s", run.run_id, step, exc.message)
        return 0
    sent, unfinished = 0, False
    for index, entry in enumerate(rendered):
        request = SignalRequest(
            name=entry["signal"],
            params=entry.get("params") or {},
            payload=entry.get("payload"),
            request_id=emit_request_id(run.run_id, step, index),
            source="emit",
        )
        try:
            answer = send_and_answer(ctx, request)
        except DefinitionError as exc:
            log.warning("emit %d of %s/%s refused: %s", index, run.run_id, step, exc)
            continue
        unfinished = unfinished or answer.unfinished
        sent += 1
    if unfinished:
        _emit_again(ctx, run, step, looks)
    return sent


# An emitted signal a trigger raised on (an outage: throttling past the SDK's retries)
# is sent again, the whole emit (each signal stored once, its request id): the trigger's
# set, joined and marked used before its run's start raised, starts it then, within
# RECOVER_WINDOW_MS (12 hours) of the join (signal_triggers._start_consumed); nothing
# else would (no later signal joins a used one). A minute later, then twice as long
# each time up to an hour, while the message's ``looks`` stays under EMIT_MAX_OFFERS: 7
# sends again over about 2 hours (the looks of a success its run's deadline kept, on the
# same message, count too).
EMIT_OFFER_AGAIN_MS = 60_000
EMIT_OFFER_AGAIN_MAX_MS = 3_600_000
EMIT_MAX_OFFERS = 8


def _emit_again(ctx: Services, run: RunRecord, step: str, looks: int) -> None:
    """Send the step's ``emit`` again later (an ``emit`` message: on_emit), for the
    attempt that succeeded."""
    if looks + 1 >= EMIT_MAX_OFFERS:
        log.warning(
            "emit of %s/%s not sent again: a signal trigger failed on it %d times (its"
            " failure is on the trigger's state)",
            run.run_id,
            step,
            looks + 1,
        )
        return
    record = ctx.store.get_step(run.run_id, step)
    if record is None or record.status is not StepStatus.SUCCEEDED:
        return
    delay = min(EMIT_OFFER_AGAIN_MS << looks, EMIT_OFFER_AGAIN_MAX_MS)
    again = messages.Emit(run.run_id, step, record.attempt, looks + 1)
    ctx.at(again, ctx.now() + delay, queue="events")


def emit_request_id(run_id: str, step: str, index: int) -> str:
    """The request id of a step's ``index``-th emit: the same for every sending of it
    (a redelivery, the chain's late message), so the signal is stored once. An
    iteration's run id grows with each loop level: a key past the request id's limit
    (two loops deep with long step ids) is sent as its digest (it was refused, and the
    signal never sent)."""
    key = f"emit:{run_id}/{step}/{index}"
    if len(key) <= MAX_REQUEST_ID:
        return key
    return "emit:" + hashlib.sha256(key.encode()).hexdigest()


# A kept success is written just after its emit message is sent (so that a crash between
# the two loses nothing): a message that finds the step still running looks again. The
# step ends within a lease of its run's end (the ended_check), so the looks are bounded.
EMIT_LOOK_AGAIN_MS = 60_000
EMIT_MAX_LOOKS = 30


def on_emit(ctx: Services, msg: messages.Emit) -> int:
    """Send the ``emit`` of a step whose success its run's deadline kept
    (lifecycle.end_with_result asks for it: lifecycle cannot import this module, which
    starts runs through signal triggers), or again after a signal trigger raised on it
    (``_emit_again``). Sent only if that attempt succeeded; each signal stored once
    (emit_signals' request ids). Returns how many were sent."""
    run = still_there(ctx, msg.run, "emit")
    if run is None:
        return 0
    record = ctx.store.get_step(msg.run, msg.step)
    if record is None or record.attempt != msg.attempt:
        return 0
    if record.status is StepStatus.RUNNING:
        if msg.looks + 1 >= EMIT_MAX_LOOKS:
            log.warning("emit of %s/%s dropped: the step never ended", msg.run, msg.step)
            return 0
        again = messages.Emit(msg.run, msg.step, msg.attempt, msg.looks + 1)
        ctx.at(again, ctx.now() + EMIT_LOOK_AGAIN_MS, queue="events")
        return 0
    if record.status is not StepStatus.SUCCEEDED:
        return 0
    return emit_signals(ctx, run, msg.step, looks=msg.looks)
