"""Callbacks: a result or a heartbeat for a waiting step's token (``podium callback``,
``POST /callbacks/{token}``).

A callback is checked against the attempt now (it must be RUNNING at the attempt the
token names, of a type that waits for callbacks; an approval also checks ``by``
against its approvers), then sent as one ``done`` message, so the attempt is closed by
the same conditional write as any completion: a callback racing the step's timeout or
a second callback loses quietly to whichever came first. A heartbeat is kept as one
timeline item per attempt, overwritten each time (its time is what the heartbeat check
reads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from podium.core.engine.callbacks import CallbackResult, attempt_of
from podium.core.engine.errors import NotFound
from podium.core.engine.records import StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus
from podium.core.errors import PodiumError
from podium.service import messages
from podium.service.api_requests import RequestError, check_run_id
from podium.service.context import Services
from podium.service.runtimes.callback import heartbeat_event_id

CALLBACK_TYPES = frozenset({"wait_for_callback", "approval", "lambda_async"})
MAX_MESSAGE_CHARS = 2048
MAX_STEP_PATH_CHARS = 512
MAX_CALLBACK_OUTPUT_BYTES = 200_000  # it travels in one queue message (SQS: 256 KB)


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
        return CallbackRequest("fail", error=message[:MAX_MESSAGE_CHARS], by=by, comment=comment)
    if action == "heartbeat":
        if body["heartbeat"] is not True:  # false was taken as a heartbeat
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "invalid_request",
                "body.heartbeat",
                'send {"heartbeat": true} to say the work is alive',
            )
        return CallbackRequest("heartbeat")
    size = len(json.dumps(body["success"], default=str))
    if size > MAX_CALLBACK_OUTPUT_BYTES:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            "body.success",
            f"the output is {size:,} bytes, over {MAX_CALLBACK_OUTPUT_BYTES:,}: write it to S3"
            " and send its key",
        )
    return CallbackRequest("success", output=body["success"], by=by, comment=comment)


def may_decide(approvers: list[str], request: CallbackRequest) -> bool:
    """An approver listed by name is matched by the ``by`` the caller gives; one listed
    as an IAM ARN (``arn:aws:iam::...:user/alice``, ``...:assumed-role/ops/alice``, or
    ``...:assumed-role/ops/*`` for any session of a role) only by the identity the API
    saw, which a caller cannot choose."""
    names = {a for a in approvers if not a.startswith("arn:")}
    identities = [a for a in approvers if a.startswith("arn:")]
    if request.by is not None and request.by in names:
        return True
    caller = request.caller
    if caller is None:
        return False
    # "arn:aws:sts::123456789012:assumed-role/release/*": any session of that role.
    return any(caller == a or (a.endswith("/*") and caller.startswith(a[:-1])) for a in identities)


def _waiting(ctx: Services, token: str) -> tuple[Any, StepRecord, Any, int]:
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
    if record is None or record.status is not StepStatus.RUNNING or record.attempt != number:
        status = record.status.value if record is not None else "not started"
        now = f"attempt {record.attempt}, {status}" if record is not None else status
        raise CallbackRefused(
            HTTPStatus.CONFLICT,
            "not_waiting",
            f"attempt {number} of step '{step}' is no longer waiting for a callback ({now})",
        )
    return run, record, spec, number


def callback(ctx: Services, token: str, request: CallbackRequest) -> dict[str, Any]:
    """Apply a callback; returns what was accepted (the attempt closes when the event
    queue delivers it)."""
    run, record, spec, number = _waiting(ctx, token)
    view = {"run_id": run.run_id, "step": record.step, "attempt": number}
    if request.action == "heartbeat":
        ctx.store.put_event(
            TimelineEvent(
                run.run_id,
                ctx.now(),
                heartbeat_event_id(record.step, number),
                "heartbeat",
                step=record.step,
                attempt=number,
            )
        )
        return {**view, "accepted": "heartbeat"}
    approvers = list(getattr(spec, "approvers", []) or [])
    if approvers and not may_decide(approvers, request):
        who = f"'{request.by}'" if request.by else "a caller without --by"
        if request.caller and not request.by:
            who = f"'{request.caller}'"
        raise CallbackRefused(
            HTTPStatus.FORBIDDEN,
            "not_an_approver",
            f"{who} may not decide step '{record.step}'; its approvers: {', '.join(approvers)}",
        )
    result = CallbackResult(
        request.action == "success",
        output=request.output,
        error=request.error,
        by=request.by or request.caller if approvers else request.by,
        comment=request.comment,
    )
    done = messages.Done(run.run_id, record.step, number, result.event())
    ctx.event_queue.send(messages.encode(done))
    return {**view, "accepted": request.action}
