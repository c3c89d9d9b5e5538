"""Request ids (idempotency keys): an action's or a signal's ``request_id``, a start's
``run_id``.

The same id with the same body is a retry: it answers what the first request did and
does nothing more. The same id with another body is a mistake (an id reused by a script,
a client bug), and answering the first request's result would hide it: it is refused,
naming the fields that differ. What the first request sent is kept as a fingerprint, one
short digest per body field (``fingerprint``), recorded with the first use; a record
made before fingerprints were (it has none) matches any body, so an upgrade refuses no
true retry.

Pure: digests and the comparison; no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from podium.core.engine.errors import RunIdConflict
from podium.core.engine.records import RunRecord
from podium.core.errors import PodiumError

DIGEST_CHARS = 16
"""Hex characters of each field's digest (64 bits: a collision needs ~4 billion bodies
sent under one id)."""


def _digest(value: Any) -> str:
    canonical = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:DIGEST_CHARS]


def fingerprint(fields: Mapping[str, Any]) -> dict[str, str]:
    """A body as ``{field: digest of its canonical JSON}``: small enough to keep on the
    record of the first request, precise enough to say which field a reuse changed."""
    return {name: _digest(value) for name, value in sorted(fields.items())}


def differing(recorded: Any, sent: Mapping[str, str]) -> list[str]:
    """The fields (sorted) whose digests differ between the first request's fingerprint
    and this one's; none when the first request recorded no fingerprint (a record from
    before fingerprints: taken as the same body)."""
    if not isinstance(recorded, Mapping) or not recorded:
        return []
    names = set(recorded) | set(sent)
    return sorted(n for n in names if recorded.get(n) != sent.get(n))


# The body fields named by a plural noun ("params differ", the CLI's "-p params
# differ"); any other names one thing ("ttl_days differs", "action differs"), whatever
# letter it ends with.
_PLURAL_FIELDS = frozenset({"params", "tags"})


def _differ(fields: Sequence[str]) -> str:
    listed = ", ".join(fields)
    plural = len(fields) > 1 or fields[0].split(" ")[-1] in _PLURAL_FIELDS
    return f"{listed} {'differ' if plural else 'differs'}"


def reused_message(key: str, request_id: str, fields: Sequence[str], *, noun: str) -> str:
    """What a reused request id is refused with: ``key`` and ``fields`` as the caller
    names them (the API's body fields; the CLI's options, ``--ttl-days``), ``noun`` what
    to use a new one of."""
    return (
        f"{key} {request_id} was already used with a different body ({_differ(fields)});"
        f" use a new {noun} for a new request, or send the first body again to get its"
        " result"
    )


class RequestIdReused(PodiumError):
    """A request id sent again with a different body (409 ``request_id_conflict``)."""

    def __init__(self, request_id: str, fields: Sequence[str], *, key: str = "request_id") -> None:
        self.request_id, self.fields, self.key = request_id, list(fields), key
        self.message = reused_message(key, request_id, fields, noun=key.replace("_", " "))
        super().__init__(self.message)


class RunIdReused(RunIdConflict):
    """A start's ``run_id`` sent again with a different body for the same workflow (409
    ``run_id_conflict``, naming the fields that differ and the run it names)."""

    def __init__(
        self, run_id: str, current: RunRecord, workflow: str, fields: Sequence[str]
    ) -> None:
        super().__init__(run_id, current, workflow)
        self.fields = list(fields)
        self.message = (
            f"run_id '{run_id}' already names a run of '{workflow}' started with different"
            f" {', '.join(fields)} (status {current.status.value}); send a new run_id to"
            " start another run, or repeat the first request to get that run"
        )
        self.args = (self.message,)
