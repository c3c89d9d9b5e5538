"""Loop wake-ups and counts, one per loop per batch.

A loop iteration ended and settled at once (``StateStore.end_counted_child``) owes its
loop only its count and a wake-up: a ``done`` message that makes the loop step run a
pass, which reads the step's counts, not the message. A Lambda batch often ends several
iterations of the same loop, so inside a batch (``collected``, which
``handlers/_sqs.run_batch`` opens) their counts are kept and written together when the
batch is done (``StateStore.count_children``: children launched together share a count
shard, so a batch's are one or two writes), then the wake-ups are sent, one per loop
step: one message and one pass per loop instead of one per iteration. Outside a batch
an iteration is counted with its end and its wake-up is sent at once.

A count or a wake-up lost with a worker that dies before the batch's end is made up as
any lost wake-up is: the parent run's sweeper check polls its running loops
(service/sweep.py), and the poll counts the settled children not counted yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from podium.service import messages
from podium.service.context import Services

log = logging.getLogger("podium.wakeups")

# Per thread (``podium dev --workers`` runs batches in threads): the batch's wake-ups by
# (run, step, attempt), each with the (index, outcome) of the children it counts, or
# None outside a batch.
_Pending = dict[tuple[str, str, int], tuple[messages.Done, list[tuple[int, str]]]]
_PENDING: ContextVar[_Pending | None] = ContextVar("podium_loop_wakeups", default=None)


def collecting() -> bool:
    """Inside a batch: an iteration's count can wait for the batch's end."""
    return _PENDING.get() is not None


def wake_loop(ctx: Services, done: messages.Done, count: tuple[int, str] | None = None) -> None:
    """Wake the loop ``done`` names; ``count``: the (index, outcome) of a child settled
    with ``defer_count`` (only inside a batch), counted before the wake-up is sent."""
    pending = _PENDING.get()
    if pending is None:
        assert count is None, "a deferred count outside a batch"
        ctx.event_queue.send(messages.encode(done))
        return
    _, counts = pending.setdefault((done.run, done.step, done.attempt), (done, []))
    if count is not None:
        counts.append(count)


@contextmanager
def collected(ctx: Services) -> Iterator[None]:
    """Keep this batch's loop counts and wake-ups and write and send them, one per loop,
    when it ends; also when it ends with an error (the ends before it were written).
    Not when the process is going down (a BaseException such as a kill): then nothing
    more is written or sent, as on a Lambda that dies."""
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


def _flush(ctx: Services, token: Token[_Pending | None]) -> None:
    pending = _PENDING.get() or {}
    _PENDING.reset(token)
    for done, counts in pending.values():
        by_outcome: dict[str, list[int]] = {}
        for index, outcome in counts:
            by_outcome.setdefault(outcome, []).append(index)
        for outcome, indexes in sorted(by_outcome.items()):
            try:
                ctx.store.count_children(done.run, done.step, indexes, outcome)
            except Exception:  # the loop's poll counts them (loops.poll_children)
                log.exception("count of %s/%s %s failed", done.run, done.step, indexes)
    if pending:
        ctx.event_queue.send_many([messages.encode(d) for d, _ in pending.values()])
