"""Where a step's output lives: inline in the step item when small, else as a payload
reference (``{"$payload": ref, "bytes": n}``) that readers resolve.

Inline outputs stay under a few KB because the step item is rewritten on every
transition and DynamoDB bills each write per KB of the whole item.
"""

from __future__ import annotations

import hashlib
from typing import Any

from podium.core.engine.text_fields import utf8_json

INLINE_OUTPUT_BYTES = 8 * 1024
# Run params are read with the run item on every step: above this they are stored once
# as a payload and the run item keeps the reference.
INLINE_PARAMS_BYTES = 4 * 1024
MAX_PARAMS_BYTES = 1024 * 1024
MAX_OUTPUT_BYTES = 10 * 1024 * 1024  # then the attempt fails with Podium.OutputError
REF_KEY = "$payload"
MAX_OUTPUT_DEPTH = 64
OUTPUT_ERROR = "Podium.OutputError"  # never retried: the same code gives the same output
# What a view shows beside a reference whose payload is gone, rather than fail the view.
PAYLOAD_GONE = "the payload is gone (expired, or deleted)"


def _too_deep(value: Any, limit: int) -> bool:
    """Iterative (a recursive walk is what a deep value breaks)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def output_problem(output: Any, what: str = "output") -> tuple[str | None, bytes]:
    """Why a step's output (a Lambda's result, an http step's JSON body, a while loop's
    final state) cannot be stored: it must be standard JSON (no NaN or Infinity, which
    API clients and browsers refuse), nested at most 64 deep, and at most 10 MiB.
    Returns (problem, its JSON).

    Measured as it is stored (service/attempt_records.py): compact UTF-8 JSON, so the
    byte count an error names is the output's own, not that of Python's default
    ``json.dumps`` (``\\uXXXX`` escapes, 6 bytes for a CJK character, and ``", "``
    separators), which refused a 6 MB output as 12 MB."""
    if _too_deep(output, MAX_OUTPUT_DEPTH):
        return (
            f"{what} nests deeper than {MAX_OUTPUT_DEPTH} levels; flatten it or write it to"
            " S3 and return the key",
            b"",
        )
    try:
        data = utf8_json(output, allow_nan=False)
    except (TypeError, ValueError) as exc:
        hint = " (NaN and Infinity are not JSON; return null or a string)"
        detail = hint if "out of range float" in str(exc).lower() else ""
        return f"{what} is not JSON-serializable: {exc}{detail}", b""
    if len(data) > MAX_OUTPUT_BYTES:
        return (
            f"{what} is {len(data):,} bytes; the limit is {MAX_OUTPUT_BYTES:,}: write large"
            " results to S3 and return the key",
            b"",
        )
    return None, data


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REF_KEY, "bytes"}


def ref_of(ref: str, size: int) -> dict[str, Any]:
    return {REF_KEY: ref, "bytes": size}


def iteration_key(run_id: str) -> str:
    """Where a loop iteration's values (a while's state included) go when they are too
    big for its child run's item (over INLINE_PARAMS_BYTES, as params)."""
    return f"{run_id}/iteration.json"


def params_key(run_id: str, data: bytes) -> str:
    """Where a run's big params go: named by their content, so a second start under the
    same run id (a client's token sent again with other params, or two restarts racing
    to one id) writes a file of its own before it finds the run exists, and never
    replaces the params of the run that won the id."""
    return f"{run_id}/params-{hashlib.sha256(data).hexdigest()[:16]}.json"


def output_key(run_id: str, step: str, attempt: int) -> str:
    return f"{run_id}/{step}/{attempt}/output.json"


def step_params_key(run_id: str, step: str, attempt: int) -> str:
    """Where an attempt's rendered step params go when they are too big for its item."""
    return f"{run_id}/{step}/{attempt}/params.json"
