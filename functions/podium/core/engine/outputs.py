"""Where a step's output lives: inline in the step item when small, else as a payload
reference (``{"$payload": ref, "bytes": n}``) that readers resolve.

Inline outputs stay under a few KB because the step item is rewritten on every
transition and DynamoDB bills each write per KB of the whole item.
"""

from __future__ import annotations

from typing import Any

INLINE_OUTPUT_BYTES = 8 * 1024
# Run params are read with the run item on every step: above this they are stored once
# as a payload and the run item keeps the reference.
INLINE_PARAMS_BYTES = 4 * 1024
MAX_PARAMS_BYTES = 1024 * 1024
MAX_OUTPUT_BYTES = 10 * 1024 * 1024  # then the attempt fails with Podium.OutputError
REF_KEY = "$payload"


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {REF_KEY, "bytes"}


def ref_of(ref: str, size: int) -> dict[str, Any]:
    return {REF_KEY: ref, "bytes": size}


def iteration_key(run_id: str) -> str:
    """Where a loop iteration's values (a while's state included) go when they are too
    big for its child run's item (over INLINE_PARAMS_BYTES, as params)."""
    return f"{run_id}/iteration.json"


def params_key(run_id: str) -> str:
    return f"{run_id}/params.json"


def output_key(run_id: str, step: str, attempt: int) -> str:
    return f"{run_id}/{step}/{attempt}/output.json"


def step_params_key(run_id: str, step: str, attempt: int) -> str:
    """Where an attempt's rendered step params go when they are too big for its item."""
    return f"{run_id}/{step}/{attempt}/params.json"
