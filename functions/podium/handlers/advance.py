"""Lambda entry point of the event queue: run starts, timers and step results."""

from __future__ import annotations

from typing import Any

from podium import bootstrap
from podium.handlers._sqs import run_batch
from podium.service.inbox import handle_event


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = bootstrap.services()
    return run_batch(event, context, ctx, handle_event, given_back_to=ctx.event_queue)
