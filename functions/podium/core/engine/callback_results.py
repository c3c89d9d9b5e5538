"""A callback's result is decided once per attempt, where it arrives (the API).

The first result (success or fail) for an attempt is recorded by one conditional write,
a timeline item with a fixed key per attempt (kind ``callback_result``): its ``at`` is
the attempt's start and its id names the step and attempt, so every callback for the
attempt writes the same key and only the first is kept. The item holds the result's
digest and the result itself (or, for a big output, a payload reference to it):

- the first callback's write creates it: its result is sent as the ``done`` message;
- the same result again (a client retrying after a timeout or a 5xx) is answered as
  the first was, and sends the same ``done`` once more (the first may have been lost
  with a crashed request; a duplicate closes nothing twice);
- another result is refused (409 ``not_waiting``): the attempt already has its result;
- a first result received after the attempt's deadline (its step's ``timeout`` from its
  start, or the run's ``timeout``) is recorded and sent as any first result (its
  ``done``, carrying when it came, makes the engine time the attempt out at once
  rather than when its timer or the sweeper gets to it), but the caller is told the
  truth: 409 ``deadline_passed``, never 202. Every later result for the attempt finds
  that late record and is answered the same (the same one again, or another), even
  once the attempt has ended or been retried; a result recorded in time and repeated
  after the deadline is still answered as the first was.

A result recorded in time is then noted on the step (``StateStore.note_result``: one
conditional write while its attempt waits), and a deadline's end of the attempt
requires no note: a timer that read the timeline just before the item landed yields to
it (the run's deadline then keeps the result, the step's leaves it to its ``done``). A
note refused (the attempt ended between the request's read and its note) means the
result is not applied, and the caller is told 409, unless that end was this very result
(the end says so on the step, ``result_for``).

A request that died between the item and its ``done`` message loses nothing: the
waiting step finds the recorded result when it is polled or its heartbeat checked, and
any later callback for the attempt sends it again. Its deadline finds it too: a result
received by then is the attempt's result, not a timeout (``in_time``); one received
after it is a timeout, whichever of its done message and the deadline is handled first
(``attempts.apply_result`` reads when it was received).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

RESULT_KIND = "callback_result"
DEADLINE_PASSED = "deadline_passed"  # the code of a result refused as received too late


class Verdict(Enum):
    FIRST = "first"  # this callback's write recorded the attempt's result
    REPEAT = "repeat"  # the same result was recorded before: answered as then
    TAKEN = "taken"  # another result was recorded first: refused


def result_event_id(step: str, attempt: int) -> str:
    return f"callback-result-{step}-{attempt}"


def digest_of(result: Mapping[str, Any]) -> str:
    """The identity of a result (a ``done`` event): its canonical JSON, hashed."""
    text = json.dumps(result, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def result_detail(
    result: Mapping[str, Any], digest: str, received_at: int, *, ref: Any = None
) -> dict[str, Any]:
    """The recorded item's detail: the result inline, or ``ref`` (a payload reference
    to its JSON) when it is too big for a timeline item."""
    detail: dict[str, Any] = {
        "digest": digest,
        "received_at": received_at,
        "success": bool(result.get("success")),
    }
    for name in ("by", "by_name", "comment"):
        if result.get(name) is not None:
            detail[name] = result[name]
    if ref is not None:
        detail["result_ref"] = ref
    else:
        detail["result"] = dict(result)
    return detail


def verdict(recorded: Mapping[str, Any], created: bool, digest: str) -> Verdict:
    """What a callback's write says, from the detail now stored under the key."""
    if created:
        return Verdict.FIRST
    return Verdict.REPEAT if recorded.get("digest") == digest else Verdict.TAKEN


def describe(recorded: Mapping[str, Any]) -> str:
    """The recorded result in a few words, for a refusal's message."""
    what = "success" if recorded.get("success") else "fail"
    by = recorded.get("by")
    return f"{what} by {by}" if by else what


def in_time(recorded: Mapping[str, Any], deadline: int) -> bool:
    """Whether a recorded result came by the attempt's deadline (so the deadline path
    applies it rather than time the attempt out)."""
    received = recorded.get("received_at")
    return isinstance(received, int) and received <= deadline
