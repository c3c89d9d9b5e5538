"""A run's status changes on the bus ("Podium Run Status Change", docs/events.md): the
event users route alerts from. Published best effort: a change is stored first, and an
event lost with a crash is not sent again (an ended run's is redone with its
``run_ended`` until the run settles)."""

from __future__ import annotations

import logging
from typing import Any

from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.service.context import Services

RUN_STATUS_CHANGE = "Podium Run Status Change"
log = logging.getLogger("podium.events")


def publish_run_status(ctx: Services, run: RunRecord, *, at: int | None = None) -> None:
    """A run that started, paused or resumed, or ended with nothing to follow up (one
    discarded or dropped from its queue before it started): its status change on the bus
    (any other ended run's is published by ``lifecycle.run_ended``). A loop's iteration
    runs publish none (their loop step's status says it); a subworkflow's child does.

    ``at``: when the change happened (``detail.at``). A pause's is now: the run keeps no
    time of its pauses, and each is published once, by the transition that made it, so
    a second pause is told from the first. A resume passes its own; without one a
    RUNNING says its start (``started_at``), which a replayed start says again."""
    if run.iteration is not None:
        return
    assert ctx.events is not None
    if at is None and run.status is RunStatus.PAUSED:
        at = ctx.now()
    try:
        ctx.events.publish([run_status_event(run, at)])
    except Exception:  # the change is stored: an alert lost is better than an action
        # answered with a 500 after its write (its retry then refused) or a run stuck
        log.exception("run event of %s (%s) not published", run.run_id, run.status.value)


def run_status_event(run: RunRecord, at: int | None = None) -> dict[str, Any]:
    """The event users route alerts from (docs/events.md). ``at``: when the change
    happened; by default the run's end, else its start, else its creation (a pause or a
    resume gives its own: the run keeps no time of them)."""
    if at is None:
        at = run.ended_at if run.status.terminal else run.started_at
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
            # When this change happened: two pauses of a run are two changes (consumers
            # and bus: podium triggers tell them apart by it; docs/events.md).
            "at": at if at is not None else run.created_at,
            "tags": run.tags,  # route by them: {"detail": {"tags": {"team": ["ops"]}}}
            "chain": run.chain,  # bus: podium triggers in a row (trigger_events.MAX_CHAIN)
        },
    }
