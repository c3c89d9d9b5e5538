"""Callback tokens: what a waiting step (wait_for_callback, approval, an async lambda)
hands out, and how a callback names the attempt it completes.

A token is the attempt key, encoded (``pcb1_`` + base64url of ``run/step/attempt``). It
names one attempt, so a callback for an earlier attempt, or one that comes after the
attempt ended, finds nothing to complete. It is not a secret: who may call back is
decided by IAM on the API (and by ``approvers`` for an approval).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podium.core.engine.external import parse_key
from podium.core.engine.text_fields import utf8_json

PREFIX = "pcb1_"
MAX_TOKEN_CHARS = 1024
CALLBACK_EVENT = "callback"  # a done message's event kind: a callback's result
HEARTBEAT_CHECK_EVENT = "heartbeat_check"
TOKEN_EVENT = "Podium Callback Token"  # its detail-type on the bus (docs/events.md)

# EventBridge refuses a PutEvents entry over 256 KB, as it measures one (``entry_bytes``).
MAX_ENTRY_BYTES = 256 * 1024
# The rendered fields a token event may leave out to fit (a wait_for_callback's payload,
# an approval's message: each may be up to 256 KiB, core/dsl/expressions.py); the
# timeline's ``callback_token`` item keeps them whole.
OMITTABLE = ("payload", "message")


def token_of(key: str) -> str:
    return PREFIX + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def attempt_of(token: str) -> tuple[str, str, int] | None:
    """(run, step, attempt) a token names; None when it is not a Podium token."""
    if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_CHARS:
        return None
    body = token[len(PREFIX) :]
    try:
        key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return parse_key(key)


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """What a callback says: success with an output, or failure with an error."""

    success: bool
    output: Any = None
    error: str = ""
    error_type: str = "Podium.CallbackFailed"
    by: str | None = None  # who decided (an approval's approver)
    # The name a caller allowed by its IAM identity gave (``by`` is that identity).
    by_name: str | None = None
    comment: str | None = None

    def event(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": CALLBACK_EVENT, "success": self.success}
        if self.success:
            body["output"] = self.output
        else:
            body["error"] = self.error
            body["error_type"] = self.error_type
        if self.by is not None:
            body["by"] = self.by
        if self.by_name is not None:
            body["by_name"] = self.by_name
        if self.comment is not None:
            body["comment"] = self.comment
        return body


def entry_bytes(
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    resources: Sequence[str] = (),
    *,
    with_time: bool = True,
) -> int:
    """The size EventBridge gives a PutEvents entry: Source, DetailType, Detail (as the
    adapter sends it: compact JSON in UTF-8) and each of Resources in UTF-8 bytes, plus
    14 for a Time (counted by default: a margin that costs nothing)."""
    size = len(source.encode()) + len(detail_type.encode())
    size += len(utf8_json(detail, default=str))
    size += sum(len(r.encode()) for r in resources)
    return size + (14 if with_time else 0)


def fitted_token_detail(source: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """A token event's detail as published: whole when its entry fits EventBridge's
    limit; else without its rendered ``payload`` and ``message`` (a payload Podium
    accepts, up to 256 KiB, plus the token, run and step, is over it: the bus would
    refuse the event on every try, and nobody would learn the token), each marked
    ``<field>_omitted: true`` with its size (``<field>_bytes``): the consumer reads it
    from the run's timeline (its ``callback_token`` item), as ``podium runs show`` does."""
    whole = dict(detail)
    if entry_bytes(source, TOKEN_EVENT, whole) <= MAX_ENTRY_BYTES:
        return whole
    fitted = {k: v for k, v in whole.items() if k not in OMITTABLE}
    for name in OMITTABLE:
        if name in whole:
            fitted[f"{name}_omitted"] = True
            fitted[f"{name}_bytes"] = len(utf8_json(whole[name], default=str))
    return fitted


def heartbeat_due(started_at: int, last_heartbeat: int | None, heartbeat_ms: int) -> int:
    """When the attempt fails for want of a heartbeat: one interval after the later of
    its start and its last heartbeat."""
    return max(started_at, last_heartbeat or 0) + heartbeat_ms
