"""Lambda entry point of EventBridge events: Podium's bus, S3 object-created events of
the trigger buckets, and the extra patterns of the construct's props.

Triggers (runs started from events) and signals are not part of the definition language
yet, so no event can match one: each is counted as unmatched (metric
``EventsUnmatched``) and logged with its source and detail-type, so an operator who
wired a bucket or a pattern sees it arrive. A malformed event is logged and dropped (a
retry could not fix it); nothing here raises, so the trigger DLQ only ever holds events
Lambda itself could not deliver.
"""

from __future__ import annotations

import logging
from typing import Any

from podium import bootstrap
from podium.service import external_events

log = logging.getLogger("podium.events")


def describe(event: Any) -> tuple[str, str] | None:
    """(source, detail-type) of an EventBridge event; None when it is not one."""
    if not isinstance(event, dict):
        return None
    source, detail_type = event.get("source"), event.get("detail-type")
    if not isinstance(source, str) or not isinstance(detail_type, str):
        return None
    return source, detail_type


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = bootstrap.services()
    try:
        described = describe(event)
        if described is None:
            log.warning("not an EventBridge event, dropped: %.200r", event)
            return {"matched": 0, "dropped": 1}
        source, detail_type = described
        if external_events.route(ctx, event):  # ECS/Batch/Glue/SFN state changes
            return {"matched": 1, "source": source, "detail_type": detail_type}
        log.info("no trigger matches %s / %s (id %s)", source, detail_type, event.get("id"))
        ctx.metrics.count("EventsUnmatched")
        return {"matched": 0, "source": source, "detail_type": detail_type}
    finally:
        ctx.metrics.flush()
