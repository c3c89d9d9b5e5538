"""Entry points for queue messages: decode, honour due times, route to a use case."""

from __future__ import annotations

from typing import Any

from podium.service import messages
from podium.service.advance import start_roots
from podium.service.attempts import Claimed
from podium.service.backfill import on_driver as on_backfill_driver
from podium.service.completions import on_done, on_poll
from podium.service.context import Services
from podium.service.execute import execute
from podium.service.lifecycle import on_ended_check, on_run_deadline
from podium.service.runtimes.external import on_stop_work
from podium.service.signal_waits import on_signal_check
from podium.service.signals import on_emit
from podium.service.triggers import on_fire


def _deferred(ctx: Services, queue: str, msg: messages.Message, not_before: int | None) -> bool:
    """A message that arrived before its due time (a 15-minute SQS hop of a longer
    wait, or a schedule that fired early) is sent on until it is due."""
    if not_before is None or not_before <= ctx.now():
        return False
    ctx.at(msg, not_before, queue=queue)
    return True


def handle_work(ctx: Services, body: Any) -> Claimed | None:
    msg, nb = messages.decode(body)
    if not isinstance(msg, messages.Exec):
        raise messages.BadMessage(f"the work queue takes exec messages, not {body!r}")
    if _deferred(ctx, "work", msg, nb):
        return None
    return execute(ctx, msg)


def handle_event(ctx: Services, body: Any) -> Claimed | None:
    msg, nb = messages.decode(body)
    if _deferred(ctx, "events", msg, nb):
        return None
    if isinstance(msg, messages.Start):
        start_roots(ctx, msg.run)
        return None
    if isinstance(msg, messages.Done):
        return on_done(ctx, msg)
    if isinstance(msg, messages.PollStep):
        return on_poll(ctx, msg)
    if isinstance(msg, messages.StopWork):
        on_stop_work(ctx, msg)
        return None
    if isinstance(msg, messages.RunDeadline):
        on_run_deadline(ctx, msg.run)
        return None
    if isinstance(msg, messages.EndedCheck):
        on_ended_check(ctx, msg.run)
        return None
    if isinstance(msg, messages.SignalCheck):
        on_signal_check(ctx, msg)
        return None
    if isinstance(msg, messages.Emit):
        on_emit(ctx, msg)
        return None
    if isinstance(msg, messages.Fire):
        on_fire(ctx, msg)
        return None
    if isinstance(msg, messages.BackfillDriver):
        on_backfill_driver(ctx, msg)
        return None
    raise messages.BadMessage(f"the event queue does not take {body!r}")
