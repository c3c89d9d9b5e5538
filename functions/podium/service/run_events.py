"""A run's status changes on the bus ("Podium Run Status Change", docs/events.md): the
event users route alerts from. Published best effort: a change is stored first, and an
event lost with a crash is not sent again (an ended run's is redone with its
``run_ended`` until the run settles)."""

from __future__ import annotations

import logging
from typing import Any

from podium.core.engine.records import RunRecord
from podium.service.context import Services

RUN_STATUS_CHANGE = "Podium Run Status Change"
log = logging.getLogger("podium.events")


def publish_run_status(ctx: Services, run: RunRecord) -> None:
    """A run that started, paused or resumed, or ended with nothing to follow up (one
    discarded or dropped from its queue before it started): its status change on the bus
    (any other ended run's is published by ``lifecycle.run_ended``). A loop's iteration
    runs publish none (their loop step's status says it); a subworkflow's child does."""
    if run.iteration is not None:
        return
    assert ctx.events is not None
    try:
        ctx.events.publish([run_status_event(run)])
    except Exception:  # the change is stored: an alert lost is better than an action
        # answered with a 500 after its write (its retry then refused) or a run stuck
        log.exception("run event of %s (%s) not published", run.run_id, run.status.value)


def run_status_event(run: RunRecord) -> dict[str, Any]:
    """The event users route alerts from (docs/events.md)."""
    return {
        "detail-type": RUN_STATUS_CHANGE,
        "detail": {
            "run_id": run.run_id,
            "workflow": run.workflow,
            "version": run.version,
            "status": run.status.value,
            "error": run.error,
            "reason": run.reason,
            "trigger": run.trigger,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "ended_at": run.ended_at,
            "tags": run.tags,  # route by them: {"detail": {"tags": {"team": ["ops"]}}}
            "chain": run.chain,  # bus: podium triggers in a row (trigger_events.MAX_CHAIN)
        },
    }
