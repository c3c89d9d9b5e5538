"""The synchronous attempts this process is running now, or another live process
working on the same local home.

A synchronous attempt's lease (16 minutes) stands for its worker: on AWS no invoke
outlives it (Lambda stops at 15), so an attempt past its lease lost its worker and the
sweeper reclaims it. A local function has no such bound (a training run of an hour
under ``podium dev``), and ``podium dev`` sweeps in the process that runs it, or beside
the ``podium run`` that does (both on one home): an attempt a live process is still
running is not lost, and starting it again would run it twice. The sweeper asks here
first (its own Lambda on AWS: nothing is in flight there). The home knows which process
claimed an attempt (adapters/sqlite/rows.py ``write_step``) and whether it lives.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from podium.service.context import Services

_Key = tuple[str, str, int]  # run, step, attempt
_running: weakref.WeakKeyDictionary[Any, set[_Key]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _of(ctx: Services) -> set[_Key] | None:
    try:
        return _running.setdefault(ctx.store, set())
    except TypeError:  # a store that cannot be weakly referenced: nothing is known
        return None


@contextmanager
def running_here(ctx: Services, run_id: str, step: str, attempt: int) -> Iterator[None]:
    """While the block runs, the attempt is in flight in this process."""
    key = (run_id, step, attempt)
    with _lock:
        keys = _of(ctx)
        if keys is not None:
            keys.add(key)
    try:
        yield
    finally:
        with _lock:
            if keys is not None:
                keys.discard(key)


def is_running_here(ctx: Services, run_id: str, step: str, attempt: int) -> bool:
    with _lock:
        keys = _of(ctx)
        return keys is not None and (run_id, step, attempt) in keys


def is_running(ctx: Services, run_id: str, step: str, attempt: int) -> bool:
    """In flight here, or claimed by another live process on the same home (a store
    that knows no processes, DynamoDB's or the fakes, says nothing of others)."""
    if is_running_here(ctx, run_id, step, attempt):
        return True
    elsewhere = getattr(ctx.store, "running_elsewhere", None)
    return callable(elsewhere) and bool(elsewhere(run_id, step, attempt))
