"""Loop steps' pure decisions: the iteration space of a foreach, and what a loop step
does next given its counters (launch more children, wait, succeed, fail, stop).

A loop's iterations are child runs (core/engine/identity.py). The parent step keeps
counters: ``children_launched`` (a mark that only rises) and the children counted as
ended, by outcome. Everything here is decided from those numbers alone, so any worker
holding a fresh read of the step decides the same.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any

from podium.core.engine.status import RunStatus
from podium.core.expr.shown import type_label

MAX_ITERATIONS = 100_000  # per foreach (Maestro stops at 25,000)
MAX_WHILE_ITERATIONS = 100_000
MAX_CONCURRENCY = 1_000
DEFAULT_CONCURRENCY = 20

# A loop iteration's run names the body it runs: "<workflow>/<step>" ("etl/per_day", and
# "etl/per_day/per_hour" one level down). Workflow names never hold a "/".
BODY_SEPARATOR = "/"


def body_workflow(workflow: str, step: str) -> str:
    return f"{workflow}{BODY_SEPARATOR}{step}"


def top_workflow(workflow: str) -> str:
    """The pushed workflow a (maybe nested) body belongs to."""
    return workflow.split(BODY_SEPARATOR, 1)[0]


# StepRecord counter of each child outcome.
CHILD_COUNTERS: Mapping[str, str] = {
    "ok": "children_ok",
    "failed": "children_failed",
    "stopped": "children_stopped",
}


def outcome_of(status: RunStatus) -> str:
    """The counter an ended child run adds to."""
    if status is RunStatus.SUCCEEDED:
        return "ok"
    if status is RunStatus.STOPPED:
        return "stopped"
    return "failed"  # FAILED, TIMED_OUT (DISCARDED never happens: children skip admission)


class LoopError(ValueError):
    """An iteration space that cannot run (too big, not lists, zip of unequal lengths)."""


@dataclass(frozen=True, slots=True)
class Space:
    """A foreach's iterations: loop params (name -> values) combined by ``mode``.

    product: the Cartesian product, the first param varying fastest (Maestro's
    mixed-radix order); zip: the i-th value of every param."""

    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    mode: str = "product"

    @classmethod
    def of(cls, over: Mapping[str, Any], mode: str = "product") -> Space:
        names = tuple(over)
        values: list[tuple[Any, ...]] = []
        for name in names:
            value = over[name]
            if not isinstance(value, list | tuple):
                raise LoopError(
                    f"over.{name} must be a list (or an expression giving one),"
                    f" not {type_label(value)}"
                )
            values.append(tuple(value))
        space = cls(names, tuple(values), mode)
        if mode == "zip":
            lengths = {len(v) for v in values}
            if len(lengths) > 1:
                sizes = ", ".join(f"{n}: {len(v)}" for n, v in zip(names, values, strict=True))
                raise LoopError(f"mode zip needs lists of one length; got {sizes}")
        if space.count > MAX_ITERATIONS:
            raise LoopError(
                f"the foreach has {space.count:,} iterations, over the limit of"
                f" {MAX_ITERATIONS:,}; split it (a nested foreach, or several steps)"
            )
        return space

    @property
    def count(self) -> int:
        if not self.names:
            return 0
        if self.mode == "zip":
            return len(self.values[0])
        return math.prod(len(v) for v in self.values)

    def at(self, index: int) -> dict[str, Any]:
        """The loop values of iteration ``index``."""
        if self.mode == "zip":
            return {n: v[index] for n, v in zip(self.names, self.values, strict=True)}
        out: dict[str, Any] = {}
        rest = index
        for name, vals in zip(self.names, self.values, strict=True):
            rest, digit = divmod(rest, len(vals))
            out[name] = vals[digit]
        return out

    def as_json(self) -> dict[str, Any]:
        over = {n: list(v) for n, v in zip(self.names, self.values, strict=True)}
        return {"mode": self.mode, "over": over}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Space:
        over = data["over"]
        return cls(tuple(over), tuple(tuple(v) for v in over.values()), data.get("mode", "product"))


class OnFailure(str, Enum):
    FAIL_FAST = "fail_fast"  # stop the running iterations, fail the step now
    FINISH_RUNNING = "finish_running"  # launch no more; fail once the running ones end
    CONTINUE = "continue"  # run them all; fail only past tolerated_failures


def tolerated(limit: int | str | None, total: int) -> int:
    """How many failed iterations ``continue`` tolerates: a count, or "10%" of them."""
    if limit is None:
        return 0
    if isinstance(limit, str):  # exact: through a float, 18.4% of 375 would be 68
        return math.floor(Fraction(limit.rstrip("%")) * total / 100)
    return int(limit)


@dataclass(frozen=True, slots=True)
class Counts:
    total: int
    launched: int
    ok: int
    failed: int
    stopped: int

    @property
    def ended(self) -> int:
        return self.ok + self.failed + self.stopped

    @property
    def running(self) -> int:
        return max(self.launched - self.ended, 0)

    @property
    def bad(self) -> int:
        return self.failed + self.stopped


@dataclass(frozen=True, slots=True)
class LoopPlan:
    """What to do now: launch children ``[launch_from, launch_to)``; then, when
    ``finish`` is set, end the step ("ok" or "failed", with ``message``); with
    ``stop_running``, stop the iterations still running (fail_fast)."""

    launch_from: int = 0
    launch_to: int = 0
    finish: str | None = None
    message: str = ""
    stop_running: bool = False


def plan_foreach(
    counts: Counts,
    concurrency: int,
    on_failure: OnFailure,
    tolerated_failures: int | str | None = None,
) -> LoopPlan:
    """Launch in index order while fewer than ``concurrency`` run, in batches (a tenth of
    the concurrency at least, so a wide loop launches many children per invocation),
    and decide the end by the failure policy.

    A child ``i`` is launched only when a read saw ``ended >= i + 1 - concurrency``;
    ended counts only grow, so no more than ``concurrency`` ever run at once."""
    n = counts.total
    bad = counts.bad
    if on_failure is OnFailure.FAIL_FAST and bad:
        # Stop whatever runs, even when the counts say nothing does: the launched mark is
        # raised after its children are created, so it can lag a launch in flight (the
        # stop lists the children opened and not counted, not the mark).
        # Its stops come after this decision: counted here, they would say too few.
        # An operator's stop of an iteration ends the loop too: counted as the other
        # policies count it ("0 of 4 iterations failed, 1 stopped").
        message = (
            _failed_message(counts) + " (fail_fast: the iterations still running were stopped)"
        )
        return LoopPlan(finish="failed", message=message, stop_running=True)
    stopping = on_failure is OnFailure.FINISH_RUNNING and bad > 0
    if stopping:
        if counts.running == 0:  # by the mark: the loop's close still looks (foreach.py)
            return LoopPlan(finish="failed", message=_failed_message(counts))
        return LoopPlan()
    if counts.ended >= n:
        limit = tolerated(tolerated_failures, n) if on_failure is OnFailure.CONTINUE else 0
        if bad > limit:
            extra = f" (tolerated: {limit})" if on_failure is OnFailure.CONTINUE else ""
            return LoopPlan(finish="failed", message=_failed_message(counts) + extra)
        return LoopPlan(finish="ok")
    target = min(n, counts.ended + concurrency)
    free = target - counts.launched
    batch = max(1, concurrency // 10)
    if free > 0 and (free >= batch or target == n or counts.running == 0):
        return LoopPlan(launch_from=counts.launched, launch_to=target)
    return LoopPlan()


def _failed_message(counts: Counts) -> str:
    parts = [f"{counts.failed} of {counts.total} iterations failed"]
    if counts.stopped:
        parts.append(f"{counts.stopped} stopped")
    return ", ".join(parts)


SPACES_CACHED = 64


class SpaceCache:
    """Iteration spaces are immutable once a loop started: a process keeps the last few
    by (run, step), so a pass over a 100,000-iteration loop does not read them back
    every time. One per ``Services`` (one deployment, one home): run ids repeat across
    homes and simulated worlds in one process, and a space must never cross them."""

    def __init__(self, size: int = SPACES_CACHED) -> None:
        self._items: OrderedDict[tuple[str, str], Space] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Space | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, str], space: Space) -> None:
        with self._lock:
            self._items[key] = space
            while len(self._items) > self._size:
                self._items.popitem(last=False)
