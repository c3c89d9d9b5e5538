"""JSON views of records, shared by the API and the CLI's --json output."""

from __future__ import annotations

import json
from typing import Any

from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent, WorkflowVersion
from podium.service.loop_views import loop_counts


def run_view(run: RunRecord) -> dict[str, Any]:
    view = {
        "run_id": run.run_id,
        "workflow": run.workflow,
        "version": run.version,
        "status": run.status.value,
        "params": run.params,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "error": run.error,
        "reason": run.reason,
        "trigger": run.trigger,
        "tags": run.tags,
        "restart_of": run.restart_of,
    }
    if run.restart_from is not None:  # beginning, a step, or a step inside an iteration
        view["restart_from"] = run.restart_from
    return view


def step_view(step: StepRecord) -> dict[str, Any]:
    duration = (
        step.ended_at - step.started_at
        if step.ended_at is not None and step.started_at is not None
        else None
    )
    view = {
        "step": step.step,
        "status": step.status.value,
        "attempts": step.attempt,
        "ready_at": step.ready_at,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "duration_ms": duration,
        "error": step.error,
        "reason": step.reason,
        "output": step.output,
    }
    children = loop_counts(step)
    if children is not None:  # a loop step: its iterations (child runs) by state
        view["children"] = children
    return view


def event_view(ev: TimelineEvent) -> dict[str, Any]:
    return {
        "at": ev.at,
        "kind": ev.kind,
        "step": ev.step,
        "attempt": ev.attempt,
        "detail": ev.detail,
    }


def workflow_view(wv: WorkflowVersion) -> dict[str, Any]:
    return {
        "name": wv.name,
        "version": wv.version,
        "active_version": wv.active_version,
        "digest": wv.digest,
        "created_at": wv.created_at,
        "definition": wv.document,
    }


# A run's page of steps stays well under Lambda's 6 MB response (API Gateway takes
# 10 MB): a step's view is up to ~20 KB (an 8 KiB output, its params, an error).
STEPS_PAGE_BYTES = 3_000_000
STEPS_PAGE_LIMIT = 1_000


def page_of_steps(
    views: list[dict[str, Any]], start: int, limit: int = STEPS_PAGE_LIMIT
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` step views from ``start`` within STEPS_PAGE_BYTES (at least one),
    and where the next page starts (None: the last page)."""
    page: list[dict[str, Any]] = []
    size = 0
    for view in views[start : start + limit]:
        size += len(json.dumps(view, default=str))
        if page and size > STEPS_PAGE_BYTES:
            break
        page.append(view)
    end = start + len(page)
    return page, (end if end < len(views) else None)
