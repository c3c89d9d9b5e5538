"""Lambda entry point of EventBridge events: Podium's bus, S3 object-created events of
the trigger buckets, and the extra patterns of the construct's props.

A thin dispatcher: service/event_routing.py decides (a ``podium.signal`` event is a
signal; other events go to the routes registered there). An event nothing takes (other
than Podium's own run and step status changes) is counted as unmatched (metric
``EventsUnmatched``) and logged with its source and detail-type, so an operator who
wired a bucket or a pattern sees it arrive. A malformed
event is logged and dropped (a retry could not fix it).
"""

from __future__ import annotations

import logging
from typing import Any

from podium import bootstrap
from podium.service import external_events
from podium.service.event_routing import route_event

log = logging.getLogger("podium.events")


def describe(event: Any) -> tuple[str, str] | None:
    """(source, detail-type) of an EventBridge event; None when it is not one."""
    if not isinstance(event, dict):
        return None
    source, detail_type = event.get("source"), event.get("detail-type")
    if not isinstance(source, str) or not isinstance(detail_type, str):
        return None
    return source, detail_type


# Rules on buses other than the default one wrap what they deliver as
# ``{"podium_bus": NAME, "event": EVENT}`` (an input transformer set by the construct),
# so that a trigger fires only for events put on the bus it names.
BUS_KEY, EVENT_KEY = "podium_bus", "event"


def unwrap(event: Any) -> tuple[Any, str]:
    """The EventBridge event and the name of the bus it came from."""
    if isinstance(event, dict) and set(event) == {BUS_KEY, EVENT_KEY}:
        bus = event[BUS_KEY]
        if isinstance(bus, str) and bus:
            return event[EVENT_KEY], bus
    return event, "default"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = bootstrap.services()
    try:
        event, bus = unwrap(event)
        described = describe(event)
        if described is None:
            log.warning("not an EventBridge event, dropped: %.200r", event)
            return {"matched": 0, "dropped": 1}
        source, detail_type = described
        # ECS/Batch/Glue/SFN state changes go back to the attempts that started them; every
        # event is also offered to the triggers (a Glue job's end may start a workflow).
        external = external_events.route(ctx, event)
        return route_event(ctx, event, source, detail_type, external=external, bus=bus)
    finally:
        ctx.metrics.flush()
