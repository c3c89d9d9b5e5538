"""Step status changes on Podium's bus (``Podium Step Status Change``, docs/events.md).

One event per change costs as much as the step's own orchestration ($1 per million
PutEvents entries), so a workflow chooses with ``step_events``: ``failures`` (the
default: FAILED, TIMED_OUT and attempts that will be retried, which are exceptional),
``all`` (every change this module is told of), or ``none``. Delivery is at least once:
a replayed follow-up may publish a change again; consumers de-duplicate on
``run_id`` + ``step`` + ``attempt`` + ``status``.
"""

from __future__ import annotations

import logging
from typing import Any

from podium.core.dsl.models import StepEvents
from podium.core.engine.records import RunRecord
from podium.core.engine.status import StepStatus
from podium.service.context import Services

log = logging.getLogger("podium.events")

STEP_STATUS_CHANGE = "Podium Step Status Change"
_FAILURES = frozenset(
    {StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.RETRY_WAIT, StepStatus.FAILED_IGNORED}
)


def wanted(setting: StepEvents, status: StepStatus) -> bool:
    if setting is StepEvents.ALL:
        return True
    return setting is StepEvents.FAILURES and status in _FAILURES


def publish_step(
    ctx: Services,
    run: RunRecord,
    step: str,
    status: StepStatus,
    *,
    attempt: int | None = None,
    error: str | None = None,
    at: int | None = None,
) -> None:
    setting = ctx.definitions.get(run.workflow, run.version).definition.step_events
    if not wanted(setting, status):
        return
    assert ctx.events is not None
    try:
        ctx.events.publish([step_status_event(run, step, status, attempt, error, at or ctx.now())])
    except Exception:  # an alert lost is better than a step stuck: the change is stored
        log.exception("step event of %s/%s not published", run.run_id, step)


def step_status_event(
    run: RunRecord,
    step: str,
    status: StepStatus,
    attempt: int | None,
    error: str | None,
    at: int,
) -> dict[str, Any]:
    return {
        "detail-type": STEP_STATUS_CHANGE,
        "detail": {
            "run_id": run.run_id,
            "workflow": run.workflow,
            "version": run.version,
            "created_at": run.created_at,  # with run_id, names the run (podium_link)
            "step": step,
            "status": status.value,
            "attempt": attempt,
            "error": error,
            "at": at,
            "trigger": run.trigger,
            "tags": run.tags,
            "chain": run.chain,  # a trigger on step changes is a link too (MAX_CHAIN)
        },
    }
