"""Entry points for queue messages: decode, honour due times, route to a use case."""

from __future__ import annotations

from typing import Any

from podium.service import messages
from podium.service.advance import start_roots
from podium.service.context import Services
from podium.service.execute import Claimed, execute, on_timer


def _deferred(ctx: Services, queue: Any, msg: messages.Message, not_before: int | None) -> bool:
    """A long wait travels as a chain of 15-minute SQS delays until it is due."""
    if not_before is None:
        return False
    remaining_ms = not_before - ctx.now()
    if remaining_ms <= 0:
        return False
    seconds = -(-remaining_ms // 1000)
    ctx.send_later(queue, msg, int(seconds)) if seconds > 900 else queue.send(
        messages.encode(msg, not_before=not_before), int(seconds)
    )
    return True


def handle_work(ctx: Services, body: Any) -> Claimed | None:
    msg, nb = messages.decode(body)
    if not isinstance(msg, messages.Exec):
        raise messages.BadMessage(f"the work queue takes exec messages, not {body!r}")
    if _deferred(ctx, ctx.work_queue, msg, nb):
        return None
    return execute(ctx, msg)


def handle_event(ctx: Services, body: Any) -> Claimed | None:
    msg, nb = messages.decode(body)
    if _deferred(ctx, ctx.event_queue, msg, nb):
        return None
    if isinstance(msg, messages.Start):
        start_roots(ctx, msg.run)
        return None
    if isinstance(msg, messages.Timer):
        return on_timer(ctx, msg)
    raise messages.BadMessage(f"the event queue does not take {body!r}")
