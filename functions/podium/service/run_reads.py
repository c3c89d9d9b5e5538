"""How old a worker's view of its run may be when it decides what follows a step.

A worker reads its run when it takes a work message, then runs the step (seconds, or
minutes on AWS). Whether it goes on in-process with a claimed successor rests on a read
of the run's status no older than STATUS_FRESH_MS (a pause or a stop reaches a chain of
in-process steps within that time), and a step that ran longer than that decides its
successors on such a read too (a branch that failed meanwhile on another worker is
seen). Reading again at every step end would cost a read per step (+$0.12 per million
steps on W1, past its $1.50 target), so each process keeps its last fresh read of each
run, with when it was made. The read a worker took before a step's work is not one: a
continuation after it reads afresh.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from podium.core.engine.records import RunRecord
from podium.service.context import Services

STATUS_FRESH_MS = 1_000
_MAX_SEEN = 10_000
_seen: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, RunRecord]]] = (
    weakref.WeakKeyDictionary()
)
_seen_lock = threading.Lock()


def _runs_seen(ctx: Services) -> dict[str, tuple[int, RunRecord]] | None:
    try:
        return _seen.setdefault(ctx.store, {})
    except TypeError:  # a store that cannot be weakly referenced: always read
        return None


def _note_read(ctx: Services, run: RunRecord, at: int | None = None) -> None:
    """Remember ``run`` as read at ``at`` (now by default) by this process."""
    when = ctx.now() if at is None else at
    with _seen_lock:
        seen = _runs_seen(ctx)
        if seen is None:
            return
        if len(seen) >= _MAX_SEEN:
            seen.clear()
        last = seen.get(run.run_id)
        if last is None or last[0] <= when:
            seen[run.run_id] = (when, run)


def recent_run(ctx: Services, run_id: str) -> tuple[RunRecord, bool]:
    """The run as this process read it within STATUS_FRESH_MS, else read now; and
    whether it was read now."""
    now = ctx.now()
    with _seen_lock:
        seen = _runs_seen(ctx)
        hit = seen.get(run_id) if seen is not None else None
    if hit is not None and 0 <= now - hit[0] < STATUS_FRESH_MS:
        return hit[1], False
    run = ctx.store.get_run(run_id)
    _note_read(ctx, run, now)
    return run, True
