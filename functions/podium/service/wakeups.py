"""Loop wake-ups, one per loop per batch.

A loop iteration counted with its end (``StateStore.end_counted_child``) owes its loop
only a wake-up: a ``done`` message that makes the loop step run a pass, which reads the
step's counts, not the message. A Lambda batch often ends several iterations of the same
loop, so inside a batch (``collected``, which ``handlers/_sqs.run_batch`` opens) the
wake-ups are kept, one per loop step, and sent together when the batch is done: one
message and one pass per loop instead of one per iteration. Outside a batch a wake-up
is sent at once.

A wake-up lost with a worker that dies before the batch's end is made up as any lost
wake-up is: the parent run's sweeper check polls its running loops (service/sweep.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from podium.service import messages
from podium.service.context import Services

# Per thread (``podium dev --workers`` runs batches in threads): the batch's wake-ups by
# (run, step, attempt), or None outside a batch.
_PENDING: ContextVar[dict[tuple[str, str, int], messages.Done] | None] = ContextVar(
    "podium_loop_wakeups", default=None
)


def wake_loop(ctx: Services, done: messages.Done) -> None:
    pending = _PENDING.get()
    if pending is None:
        ctx.event_queue.send(messages.encode(done))
    else:
        pending.setdefault((done.run, done.step, done.attempt), done)


@contextmanager
def collected(ctx: Services) -> Iterator[None]:
    """Keep this batch's loop wake-ups and send them, one per loop, when it ends; also
    when it ends with an error (the counts before it were written). Not when the
    process is going down (a BaseException such as a kill): then nothing more is sent,
    as on a Lambda that dies."""
    token = _PENDING.set({})
    try:
        yield
    except Exception:
        _flush(ctx, token)
        raise
    except BaseException:
        _PENDING.reset(token)
        raise
    _flush(ctx, token)


def _flush(ctx: Services, token: Token[dict[tuple[str, str, int], messages.Done] | None]) -> None:
    pending = _PENDING.get() or {}
    _PENDING.reset(token)
    if pending:
        ctx.event_queue.send_many([messages.encode(d) for d in pending.values()])
