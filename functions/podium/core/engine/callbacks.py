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
from dataclasses import dataclass
from typing import Any

from podium.core.engine.external import parse_key

PREFIX = "pcb1_"
MAX_TOKEN_CHARS = 1024
CALLBACK_EVENT = "callback"  # a done message's event kind: a callback's result
HEARTBEAT_CHECK_EVENT = "heartbeat_check"


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
        if self.comment is not None:
            body["comment"] = self.comment
        return body


def heartbeat_due(started_at: int, last_heartbeat: int | None, heartbeat_ms: int) -> int:
    """When the attempt fails for want of a heartbeat: one interval after the later of
    its start and its last heartbeat."""
    return max(started_at, last_heartbeat or 0) + heartbeat_ms
