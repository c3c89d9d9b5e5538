"""Lambda entry point of the work queue: execute step attempts."""

from __future__ import annotations

from typing import Any

from podium import bootstrap
from podium.handlers._sqs import run_batch
from podium.service.inbox import handle_work


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_batch(event, context, bootstrap.services(), handle_work)
