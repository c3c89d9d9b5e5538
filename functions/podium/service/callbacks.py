"""Callbacks: a result or a heartbeat for a waiting step's token (``podium callback``,
``POST /callbacks/{token}``).

A callback is checked against the attempt now (it must be RUNNING at the attempt the
token names, of a type that waits for callbacks; an approval also checks ``by``
against its approvers). A result is then decided here, once per attempt, by one
conditional write (core/engine/callback_results.py): the first result is recorded and
sent as one ``done`` message, so the attempt is closed by the same conditional write as
any completion; the same result again is answered as the first was (and its ``done``
sent again: the first may have died with its request); another result is refused (409
``not_waiting``), never accepted and then dropped. A first result received after the
attempt's deadline (the step's ``timeout`` from the attempt's start, or the run's
``timeout``) is a timeout, whichever of its message and the deadline's timer is handled
first: it is recorded and sent all the same (the engine then times the attempt out at
once), but refused (409 ``deadline_passed``, not 202), and so is any result after it
(its record answers them, the attempt waiting or not). A heartbeat is not a result: it
is kept as one timeline item per attempt (at the attempt's start), overwritten each time
(its ``last_at`` is what the heartbeat check reads); one received after either
deadline, while the attempt still waits for its timer, is refused as a late result is
(409 ``deadline_passed``) and not kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from podium.core.engine.callback_results import (
    DEADLINE_PASSED,
    Verdict,
    describe,
    digest_of,
    verdict,
)
from podium.core.engine.callbacks import CallbackResult, attempt_of
from podium.core.engine.errors import NotFound
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus
from podium.core.errors import PodiumError
from podium.service import messages
from podium.service.api_requests import RequestError, check_run_id
from podium.service.context import Services
from podium.service.deadlines import inherited_from, own_deadline, run_deadline, timeout_of
from podium.service.runtimes.callback import (
    HEARTBEAT_AT,
    find_result_mark,
    heartbeat_event_id,
    received_of,
    recorded_result,
    result_mark,
)

CALLBACK_TYPES = frozenset({"wait_for_callback", "approval", "lambda_async"})
MAX_MESSAGE_CHARS = 2048
MAX_STEP_PATH_CHARS = 512
MAX_CALLBACK_OUTPUT_BYTES = 200_000  # it travels in one queue message (SQS: 256 KB)
# When a result's attempt is looked at again, in case its done was lost (see callback).
RECORDED_CHECK_MS = 60_000
SAME_RESULT_NOTE = "; this same result was received first, while it waited"
ENDED_FIRST_NOTE = "; it ended as this result was being recorded: the result is not applied"


class CallbackRefused(PodiumError):
    """The token names no waiting attempt (409), or the caller may not decide (403)."""

    def __init__(self, status: HTTPStatus, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class CallbackRequest:
    action: str  # "success", "fail" or "heartbeat"
    output: Any = None
    error: str = ""
    by: str | None = None
    comment: str | None = None
    caller: str | None = None  # the IAM identity the API saw (None locally)


def parse_callback(body: Any) -> CallbackRequest:
    """``{"success": <json>} | {"fail": "message"} | {"heartbeat": true}``, with an
    optional ``by`` and ``comment`` (an approval's approver and note)."""
    if not isinstance(body, dict):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "body",
            'send {"success": <output>}, {"fail": "message"} or {"heartbeat": true}',
        )
    actions = [a for a in ("success", "fail", "heartbeat") if a in body]
    unknown = sorted(set(body) - {"success", "fail", "heartbeat", "by", "comment"})
    if unknown:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            f"body.{unknown[0]}",
            "unknown field; use success, fail or heartbeat, with by and comment",
        )
    if len(actions) != 1:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "body",
            "give exactly one of success, fail and heartbeat",
        )
    by, comment = body.get("by"), body.get("comment")
    for name, value in (("by", by), ("comment", comment)):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_MESSAGE_CHARS):
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "invalid_request",
                f"body.{name}",
                f"must be a string of at most {MAX_MESSAGE_CHARS} characters",
            )
    action = actions[0]
    if action == "fail":
        message = body["fail"]
        if not isinstance(message, str) or not message.strip():
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "invalid_request", "body.fail", "give the failure's message"
            )
        if len(message) > MAX_MESSAGE_CHARS:  # refused, as by and comment are: never cut
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "invalid_request",
                "body.fail",
                f"the message is {len(message):,} characters, over {MAX_MESSAGE_CHARS:,}:"
                " shorten it (put details in S3 or the logs and give their key)",
            )
        return CallbackRequest("fail", error=message, by=by, comment=comment)
    if action == "heartbeat":
        if body["heartbeat"] is not True:  # false was taken as a heartbeat
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "invalid_request",
                "body.heartbeat",
                'send {"heartbeat": true} to say the work is alive',
            )
        return CallbackRequest("heartbeat")
    # Measured as it travels in the done message (adapters/queues.py: compact JSON,
    # non-ASCII as \uXXXX escapes), the bound that matters: not with json.dumps'
    # default ", " separators, which refused a 140 KB output as 210 KB; nor as UTF-8,
    # which would let 200,000 bytes of emoji (600 KB escaped) past SQS's 256 KB.
    size = len(json.dumps(body["success"], separators=(",", ":"), default=str))
    if size > MAX_CALLBACK_OUTPUT_BYTES:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            "body.success",
            f"the output is {size:,} bytes as JSON (non-ASCII characters as \\uXXXX, as it"
            f" is queued), over {MAX_CALLBACK_OUTPUT_BYTES:,}: write it to S3 and send its key",
        )
    return CallbackRequest("success", output=body["success"], by=by, comment=comment)


def may_decide(approvers: list[str], request: CallbackRequest) -> bool:
    """An approver listed by name is matched by the ``by`` the caller gives; one listed
    as an IAM ARN (``arn:aws:iam::...:user/alice``, ``...:assumed-role/ops/alice``, or
    ``...:assumed-role/ops/*`` for any session of a role) only by the identity the API
    saw, which a caller cannot choose."""
    return deciders(approvers, request) is not None


def deciders(
    approvers: list[str], request: CallbackRequest
) -> tuple[str | None, str | None] | None:
    """Who a callback's result is recorded as decided by, ``(by, by_name)``, or None
    when the caller may not decide (``may_decide``). Allowed by a name in
    ``approvers``: that name. Allowed by its IAM identity: that identity, which the
    caller cannot choose (a ``by`` it gave, which it can, is kept as ``by_name``, never
    as ``by``). Without approvers anyone decides: the ``by`` given, else the caller's
    identity (None locally). For an approval only (``callback``)."""
    if not approvers:
        return request.by or request.caller, None
    names = {a for a in approvers if not a.startswith("arn:")}
    identities = [a for a in approvers if a.startswith("arn:")]
    if request.by is not None and request.by in names:
        return request.by, None
    caller = request.caller
    if caller is None:
        return None
    # "arn:aws:sts::123456789012:assumed-role/release/*": any session of that role.
    if any(caller == a or (a.endswith("/*") and caller.startswith(a[:-1])) for a in identities):
        return caller, request.by if request.by != caller else None
    return None


def _attempt(ctx: Services, token: str) -> tuple[Any, str, StepRecord | None, Any, int]:
    """The run, step, step record (None before its first claim), spec and attempt
    number the token names, of a step that takes callbacks, waiting or not."""
    named = attempt_of(token)
    if named is None:
        raise NotFound(f"'{token[:80]}' is not a Podium callback token")
    run_id, step, number = named
    try:
        check_run_id(run_id)
    except RequestError:
        raise NotFound(f"'{token[:80]}' names no run of this deployment") from None
    if len(step) > MAX_STEP_PATH_CHARS:
        raise NotFound(f"'{token[:80]}' names no step of this deployment")
    run = ctx.store.get_run(run_id)  # NotFound for an unknown run
    record = ctx.store.get_step(run_id, step)
    try:
        spec = ctx.definitions.get(run.workflow, run.version).step(step)
    except KeyError:
        raise NotFound(f"run {run_id} has no step '{step}'") from None
    kind = getattr(spec, "runtime_key", spec.type)
    if kind not in CALLBACK_TYPES:
        raise CallbackRefused(
            HTTPStatus.CONFLICT, "not_waiting", f"step '{step}' ({spec.type}) takes no callbacks"
        )
    return run, step, record, spec, number


def _is_waiting(record: StepRecord | None, number: int) -> bool:
    return record is not None and record.status is StepStatus.RUNNING and record.attempt == number


def _not_waiting(
    step: str, number: int, record: StepRecord | None, note: str = ""
) -> CallbackRefused:
    status = record.status.value if record is not None else "not started"
    now = f"attempt {record.attempt}, {status}" if record is not None else status
    return CallbackRefused(
        HTTPStatus.CONFLICT,
        "not_waiting",
        f"attempt {number} of step '{step}' is no longer waiting for a callback ({now}){note}",
    )


def callback(ctx: Services, token: str, request: CallbackRequest) -> dict[str, Any]:
    """Apply a callback; returns what was accepted (the attempt closes when the event
    queue delivers it). The first result for the attempt is its result: while it waits,
    the same result again is accepted again (``repeated``) and a different one refused
    (409 not_waiting); once it is closed, any callback is refused."""
    run, step, record, spec, number = _attempt(ctx, token)
    view = {"run_id": run.run_id, "step": step, "attempt": number}
    waiting = _is_waiting(record, number)
    if request.action == "heartbeat":  # not a result: kept however often it comes
        if record is None or not waiting:
            raise _not_waiting(step, number, record)
        # Past a deadline, the attempt is over whether or not its timer was handled:
        # refused as a result would be, and not recorded.
        started_at = record.started_at if record.started_at is not None else 0
        late = _too_late(ctx, run, spec, step, number, started_at, ctx.now(), "heartbeat")
        if late is not None:
            raise late
        # One item per attempt, keyed at the attempt's start and overwritten by each
        # heartbeat (its time in the detail): a timeline item keyed by the heartbeat's
        # own time would add one per heartbeat (a day of heartbeats every 10 s: 8,640).
        ctx.store.put_event(
            TimelineEvent(
                run.run_id,
                started_at,
                heartbeat_event_id(step, number),
                "heartbeat",
                step=step,
                attempt=number,
                detail={HEARTBEAT_AT: ctx.now()},
            )
        )
        return {**view, "accepted": "heartbeat"}
    approvers = list(getattr(spec, "approvers", []) or [])
    # An approval records who decided; another waiting step's result, the ``by`` given
    # only: a caller's identity (a session name that may change between a client's
    # tries) would make a retried result a different one, refused.
    decided_by = deciders(approvers, request) if spec.type == "approval" else (request.by, None)
    allowed = decided_by is not None
    by, by_name = decided_by if decided_by is not None else (request.by, None)
    result = CallbackResult(
        request.action == "success",
        output=request.output,
        error=request.error,
        by=by,
        by_name=by_name,
        comment=request.comment,
    ).event()
    if record is None or not waiting:
        # Closed: refused. A retry whose first reply was lost (its result recorded
        # first, then applied or timed out) is told so; after a first result received
        # too late, as that one was (deadline_passed), whatever it says.
        found = _mark_of(ctx, run.run_id, step, number, record) if allowed else None
        if found is not None:
            late = _too_late(ctx, run, spec, step, number, found.at, received_of(found))
            if late is not None:
                raise late
        same = found is not None and found.detail.get("digest") == digest_of(result)
        raise _not_waiting(step, number, record, SAME_RESULT_NOTE if same else "")
    if not allowed:
        who = f"'{request.by}'" if request.by else "a caller without --by"
        if request.caller and not request.by:
            who = f"'{request.caller}'"
        raise CallbackRefused(
            HTTPStatus.FORBIDDEN,
            "not_an_approver",
            f"{who} may not decide step '{step}'; its approvers: {', '.join(approvers)}",
        )
    # Decided here, once: the first result's mark is kept, and says what came first.
    started_at = record.started_at if record.started_at is not None else 0
    mark = result_mark(ctx, run.run_id, step, number, started_at, result)
    # This request may die between the mark and its done, and its caller not retry:
    # nothing else may look at the attempt before its deadline (10 days by default). A
    # poll of the attempt, set before the mark, finds a recorded result and applies it
    # (runtimes/callback.py ``poll``); after the done, it finds the attempt closed.
    ctx.at(
        messages.PollStep(run.run_id, step, number),
        ctx.now() + RECORDED_CHECK_MS,
        queue="events",
    )
    stored, created = ctx.store.put_event_once(mark)
    decided = verdict(stored.detail, created, str(mark.detail["digest"]))
    received = received_of(stored)
    # The first result received after the deadline is sent all the same (its done
    # times the attempt out at once: the engine reads when it was received), but the
    # caller is told it came too late, and so is any result after it.
    late = _too_late(ctx, run, spec, step, number, started_at, received)
    if decided is Verdict.TAKEN or late is not None:
        # Its done message may have died with the request that recorded it: sent again
        # while the attempt waits (a duplicate closes nothing twice).
        first = result if decided is not Verdict.TAKEN else recorded_result(ctx, stored)
        if first is not None:
            _send_done(ctx, run.run_id, step, number, first, received)
        if late is not None:
            raise late
        raise CallbackRefused(
            HTTPStatus.CONFLICT,
            "not_waiting",
            f"attempt {number} of step '{step}' already has its result"
            f" ({describe(stored.detail)}): a different one is refused",
        )
    # Noted on the step, where a deadline's end (whose timer may have read the timeline
    # before the mark landed) must yield to it: one conditional write. Refused, the
    # attempt ended before: the result is not applied, and the caller is told.
    if not ctx.store.note_result(run.run_id, step, attempt=number):
        now = ctx.store.get_step(run.run_id, step)
        # Its end may have been this result, found recorded (by a deadline's timer, or
        # a poll): then it was applied, and accepted as it would have been.
        applied = now is not None and now.result_for == number
        if not applied:
            note = SAME_RESULT_NOTE if decided is Verdict.REPEAT else ENDED_FIRST_NOTE
            raise _not_waiting(step, number, now, note)
        repeated = {"repeated": True} if decided is Verdict.REPEAT else {}
        return {**view, "accepted": request.action, **repeated}
    # FIRST, or the same result again (REPEAT: its first done may have died with the
    # request that recorded it; a duplicate closes nothing twice).
    _send_done(ctx, run.run_id, step, number, result, received)
    repeated = {"repeated": True} if decided is Verdict.REPEAT else {}
    return {**view, "accepted": request.action, **repeated}


def _mark_of(
    ctx: Services, run_id: str, step: str, number: int, record: StepRecord | None
) -> TimelineEvent | None:
    """The result recorded for the (closed) attempt, if any."""
    started = record.started_at if record is not None and record.attempt == number else None
    return find_result_mark(ctx.store.list_events(run_id), step, number, started)


def _too_late(
    ctx: Services,
    run: RunRecord,
    spec: Any,
    step: str,
    number: int,
    started_at: int,
    received_at: int | None,
    what: str = "result",
) -> CallbackRefused | None:
    """The refusal of a result (or a heartbeat: ``what``) received at ``received_at``,
    past the run's deadline or the attempt's (which started at ``started_at``), as the
    engine judges it (``attempts.apply_result``: the run's first, then the step's).
    None: in time."""
    if received_at is None:
        return None
    passed = _deadline_passed(ctx, run, spec, started_at, received_at)
    if passed is None:
        return None
    deadline, timeout, of_run = passed
    came = f"the {what} for attempt {number} of step '{step}' was received at {_iso(received_at)}"
    dropped = "it is not applied" if what == "result" else "it is not recorded"
    if of_run and timeout is None:  # a child run, by its ancestors' deadline
        message = (
            f"{came}, after {inherited_from(ctx, run)}, {_iso(deadline)}: {dropped};"
            f" run {run.run_id} ends by that deadline"
        )
    elif of_run:
        message = (
            f"{came}, after the deadline of run {run.run_id} ({_iso(deadline)}: its timeout"
            f" of {timeout:g} s): {dropped}; the run ends TIMED_OUT"
        )
    else:
        message = (
            f"{came}, after the attempt's deadline ({_iso(deadline)}: the step's timeout of"
            f" {timeout:g} s from its start): {dropped}; the attempt ends TIMED_OUT"
            " (Podium.Timeout) and the step's retry policy applies, as to any timeout"
        )
    return CallbackRefused(HTTPStatus.CONFLICT, DEADLINE_PASSED, message)


def _deadline_passed(
    ctx: Services, run: RunRecord, spec: Any, started_at: int, at: int
) -> tuple[int, float | None, bool] | None:
    """The deadline passed at ``at``, if one did: (when, the timeout it counts, whether
    it is the run's), the run's first (its own, or its ancestors' for a child run: no
    timeout of its own then), then the attempt's (which started at ``started_at``).
    Received at the deadline itself is in time."""
    ends = run_deadline(ctx, run)
    if ends is not None and at > ends:
        own = ends == own_deadline(ctx, run)
        run_timeout = ctx.definitions.get(run.workflow, run.version).definition.timeout
        return ends, float(run_timeout) if own and run_timeout is not None else None, True
    timeout = timeout_of(ctx, spec)
    if timeout is None:
        return None
    deadline = started_at + int(timeout * 1000)
    return (deadline, timeout, False) if at > deadline else None


def _iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _send_done(
    ctx: Services,
    run_id: str,
    step: str,
    number: int,
    event: dict[str, Any],
    received_at: int | None,
) -> None:
    """The result's ``done`` message, with when it was received first (one received
    past the step's deadline is applied as a timeout: it does not race the timer)."""
    if received_at is not None:
        event = {**event, "received_at": received_at}
    ctx.event_queue.send(messages.encode(messages.Done(run_id, step, number, event)))
