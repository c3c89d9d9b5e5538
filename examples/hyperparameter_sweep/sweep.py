"""The sweep's step functions. On AWS each would be a Lambda function; on the embedded
runtime Podium calls them in-process.

Each function gets Podium's event: {"payload", "params", "run", "step", "attempt",
"idempotency_key"}, and inside a foreach also "iteration" ({"index", <loop params>}).
"""

from __future__ import annotations

import math
from typing import Any


def train(event: dict[str, Any]) -> dict[str, Any]:
    """A stand-in for a training job: a validation score that is best near lr 0.03 and
    depth 3 (deterministic, so the example always picks the same winner)."""
    lr, depth = float(event["payload"]["lr"]), int(event["payload"]["depth"])
    score = 0.95 - 0.05 * abs(math.log10(lr / 0.03)) - 0.02 * abs(depth - 3)
    return {"lr": lr, "depth": depth, "score": round(score, 4)}


def pick_best(event: dict[str, Any]) -> dict[str, Any]:
    """The best configuration of the sweep: `tried` counts every configuration, `failed`
    those whose iteration failed (their results are null)."""
    tried = event["payload"]["results"]
    results = [r for r in tried if r is not None]
    if not results:
        raise ValueError("every configuration of the sweep failed")
    best = max(results, key=lambda r: r["score"])
    return {"best": best, "tried": len(tried), "failed": len(tried) - len(results)}
