"""Lambda entry point of the work queue: execute step attempts."""

from __future__ import annotations

from typing import Any

from podium import bootstrap
from podium.handlers._sqs import run_batch
from podium.service.inbox import handle_work


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = bootstrap.services()
    return run_batch(event, context, ctx, handle_work, given_back_to=ctx.work_queue)
