"""What the events function does with an EventBridge event (handlers/events.py stays a
thin dispatcher): a ``podium.signal`` event on Podium's bus is a signal (on any other
bus it is an ordinary event); every other
event is offered to the triggers; what nothing takes is counted as unmatched, but for
Podium's own run and step status changes, which its bus brings whether or not a trigger
listens to them.

Nothing here raises for a bad event: a retry could not fix it, so it is logged and
dropped (the trigger DLQ holds only events Lambda itself could not deliver).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from podium.core.dsl.errors import DefinitionError
from podium.service.context import Services
from podium.service.signals import BUS_DETAIL_TYPE, signal_from_bus
from podium.service.triggers import PODIUM_BUS, is_own_status_change, route_trigger_event

log = logging.getLogger("podium.events")


def route_event(
    ctx: Services,
    event: Mapping[str, Any],
    source: str,
    detail_type: str,
    *,
    external: bool = False,
    bus: str = "default",
) -> dict[str, Any]:
    """``external``: the event was already taken as a state change of external work
    (service/external_events.py); triggers may still start runs from it. ``bus``: the
    bus it was put on (handlers/events.py: rules on other buses say which)."""
    if detail_type == BUS_DETAIL_TYPE and bus == PODIUM_BUS:
        # Only from Podium's own bus, whose PutEvents the deployer grants: on another
        # bus (a named trigger bus brings every event of the account, the default bus
        # what a pattern rule matches) anyone allowed to put events there would send
        # signals. There it is an ordinary event, offered to the triggers.
        try:
            signal, created = signal_from_bus(ctx, event)
        except DefinitionError as exc:
            log.warning("bad podium.signal event %s dropped: %s", event.get("id"), exc)
            ctx.metrics.count("EventsDropped")
            return {"matched": 0, "dropped": 1, "error": str(exc)}
        return {"matched": 1, "signal": signal.signal_id, "created": created}
    started = route_trigger_event(ctx, event, bus=bus)  # s3 and event-pattern triggers
    if started is not None:
        return started
    if external:
        return {"matched": 1, "source": source, "detail_type": detail_type}
    if bus == PODIUM_BUS and is_own_status_change(event):
        # Podium's own run and step status changes: the bus's rule (every event of the
        # account) brings each here. One no `bus: podium` trigger takes is Podium's own
        # traffic, not an event that should have matched: EventsUnmatched is for those.
        log.debug("no trigger takes %s / %s (id %s)", source, detail_type, event.get("id"))
        return {"matched": 0, "source": source, "detail_type": detail_type, "own": True}
    log.info("no trigger matches %s / %s (id %s)", source, detail_type, event.get("id"))
    ctx.metrics.count("EventsUnmatched")
    return {"matched": 0, "source": source, "detail_type": detail_type}
