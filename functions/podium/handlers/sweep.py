"""Lambda entry point of the scheduled sweeper."""

from __future__ import annotations

from typing import Any

from podium import bootstrap
from podium.service.sweep import sweep


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = bootstrap.services()
    try:
        report = sweep(ctx, ctx.store)
    finally:
        ctx.metrics.flush()
    return {
        "runs_checked": report.runs_checked,
        "redriven": len(report.redriven),
        "reclaimed": len(report.reclaimed),
        "completed": len(report.completed),
    }
