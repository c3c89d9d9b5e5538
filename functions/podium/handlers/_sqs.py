"""Shared SQS batch plumbing: partial batch responses and in-process continuation."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from podium.adapters.sqlite.db import HomeError
from podium.core.errors import TryAgainLater
from podium.core.ports import MessageQueue
from podium.service.attempts import Claimed
from podium.service.context import Services
from podium.service.execute import perform, release_claim
from podium.service.wakeups import collected

log = logging.getLogger("podium.batch")

# Stop running successors in-process, and claiming a batch's next record, when less
# than this is left of the invocation (at most half of what the batch began with: the
# advance function's whole timeout is a minute); the rest go back to the queue.
CONTINUE_MARGIN_MS = 60_000


def margin_ms(budget_ms: int) -> int:
    """The time a batch keeps in hand, from what was left when it began: a record's
    work (a synchronous step's call) may take a minute, but a function of a minute
    (advance) or less must still get through its batch, not give back all but one."""
    return min(CONTINUE_MARGIN_MS, budget_ms // 2)


class NoTimeLeft(Exception):
    """A record of a batch reached too late in the invocation: it goes back to its
    queue as it came."""


def _expected(exc: Exception) -> bool:
    """An error that is nobody's bug: retryable (TryAgainLater: the local home locked by
    another process), or the home's file itself (HomeError: read-only, damaged), whose
    message names the file and the fix."""
    return isinstance(exc, (TryAgainLater, HomeError))


def remaining_ms(context: Any) -> int:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return int(getter()) if getter else 900_000


def run_batch(
    event: dict[str, Any],
    context: Any,
    ctx: Services,
    handle: Callable[[Services, Any], Claimed | None],
    *,
    given_back_to: MessageQueue | None = None,
) -> dict[str, Any]:
    """``given_back_to``: the queue the batch came from, where a record reached with too
    little time left is sent again (None: given back as a batch item failure)."""
    handled = [0]
    margin = margin_ms(remaining_ms(context))

    def record_handler(record: SQSRecord) -> None:
        handled[0] += 1
        if handled[0] > 1 and remaining_ms(context) <= margin:
            # A batch of several (work_batch_size > 1) runs its records one after
            # another: one reached with too little time left is not claimed, but given
            # back, so no attempt starts that the invocation's end would cut off (then
            # retried as a lost worker: its work done twice). Sent again, it is seen at
            # once: a batch item failure waits out the queue's visibility timeout (six
            # times the function's: 90 minutes behind a 15-minute work function) and
            # counts a receive toward the dead-letter queue. Sent twice (a crash before
            # this record is deleted), a message finds its claim taken.
            if given_back_to is None:
                raise NoTimeLeft(f"{remaining_ms(context)} ms left: given back unclaimed")
            given_back_to.send(json.loads(record.body))
            return
        try:
            _handle(record)
        except Exception as exc:
            # Powertools logs a failed record at DEBUG only: say which message failed
            # and why (the runbook looks for the error that repeated, before the DLQ).
            # An expected error (a home locked by another process: try again later)
            # says what to do in its message: a line, not a traceback.
            receives = record.attributes.approximate_receive_count
            log.warning(
                "message %s failed (receive %s)%s",
                record.message_id,
                receives,
                f": {exc}" if _expected(exc) else "",
                exc_info=not _expected(exc),
            )
            raise

    def _handle(record: SQSRecord) -> None:
        cont = handle(ctx, json.loads(record.body))
        while cont is not None:
            if remaining_ms(context) <= margin:
                # Too little time left to run it here: it goes back to the queue unharmed.
                release_claim(ctx, cont)
                return
            cont = perform(ctx, cont, inline=True)

    # One processor per batch: it keeps the batch's successes and failures, and worker
    # threads (podium dev, --workers) run batches at the same time.
    processor = BatchProcessor(event_type=EventType.SQS)
    try:
        with collected(ctx):  # the batch's loop wake-ups: one per loop, at its end
            response = process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
    finally:
        ctx.metrics.flush()
    return dict(response)
