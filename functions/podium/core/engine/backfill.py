"""Backfill decisions (Airflow's backfill, on Podium's triggers): which scheduled times
of a date range get a run, and what happens to a time that already has one.

A time's runs form a chain of deterministic ids: the first is the id the trigger itself
gives that time (``schedule.trigger_run_id``), so a backfill never duplicates a run the
schedule started, and each re-run's id is derived from the one before. An operator's
restart of one of them (``podium runs restart``: ``<id>-r1``, core/engine/restart_ids.py)
is a link of the chain too: the next run after a run is its backfill re-run or its
restart, whichever exists (a run is restarted once, by either). A second backfill of the
same range finds the same chain and adds nothing unless asked.

A rate trigger's times are its slots: every period from its anchor (the trigger's
``since``, to the minute). Its schedule does not fire on them: EventBridge Scheduler
counts a rate from when the schedule was (re)made, and a fire message carries seconds
only. So a firing's run is the run of the slot it falls in (``rate_slot``), the id a
backfill of that slot computes too: one run per period, whichever starts it first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from enum import Enum

from podium.core.engine.external import run_created_ms
from podium.core.engine.restart_ids import restart_ids
from podium.core.engine.schedule import trigger_run_id
from podium.core.engine.status import RunStatus

MAX_BACKFILL_RUNS = 1000


class Reprocess(str, Enum):
    NONE = "none"  # a time with any run is left alone
    FAILED = "failed"  # a time whose latest run did not succeed runs again
    ALL = "all"  # every time runs again, unless its latest run is still active


class Action(str, Enum):
    START = "start"  # no run yet
    RERUN = "rerun"  # reprocess: a new run after the latest one
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def decide(latest: RunStatus | None, reprocess: Reprocess) -> Decision:
    if latest is None:
        return Decision(Action.START, "no run yet")
    if latest is RunStatus.DISCARDED:
        # The run strategy dropped it before it started (first_only while another run
        # was active, last_only for a newer one): the time never ran, so it is no "a run
        # exists". (A STOPPED run counts as run: it may have started; reprocess says.)
        return Decision(Action.START, "its run was discarded by the run strategy: never ran")
    if not latest.terminal:
        return Decision(Action.SKIP, f"a run is {latest.value.lower()} (never duplicated)")
    if reprocess is Reprocess.ALL:
        return Decision(Action.RERUN, f"reprocess all (latest run {latest.value.lower()})")
    if reprocess is Reprocess.FAILED and not latest.complete:
        return Decision(Action.RERUN, f"reprocess failed (latest run {latest.value.lower()})")
    return Decision(Action.SKIP, f"a run exists ({latest.value.lower()})")


MINUTE_MS = 60_000


def rate_anchor(since_ms: int) -> int:
    """Where a rate trigger's slots start: its ``since`` down to the minute (Scheduler's
    precision), so that a schedule made right after it, whose times may be cut to the
    second or the minute, fires inside the slot it stands for, never in the one before."""
    return since_ms - since_ms % MINUTE_MS


def rate_slot(minutes: int, anchor_ms: int, at_ms: int) -> int:
    """The slot of a rate trigger that a firing at ``at`` stands for: the start of the
    period ``[anchor + k * period, anchor + (k + 1) * period)`` that holds it. The
    start, never a later time: a run id's time is when its run may have begun at the
    earliest (external work older than it is not the run's, adapters/jobs/glue.py)."""
    period = minutes * MINUTE_MS
    return anchor_ms + (at_ms - anchor_ms) // period * period


def first_run_id(workflow: str, trigger: str, at: int) -> str:
    return trigger_run_id(workflow, trigger, str(at), at)


def next_run_id(workflow: str, trigger: str, at: int, previous: str) -> str:
    """The id of the run after ``previous`` for the same time (a reprocess)."""
    return trigger_run_id(workflow, trigger, f"{at}/after/{previous}", at)


def rerun_ids(workflow: str, triggers: Iterable[str], run_id: str) -> list[str]:
    """The ids a backfill's re-run of ``run_id`` takes, one per trigger it may be a run
    of: its scheduled time is the ULID time its id starts with (a chain's ids are ULIDs
    of that time; an operator's restart keeps the old id as its start). None for an id
    that does not start with a ULID: no backfill's chain holds it."""
    at = run_created_ms(run_id[:26])
    if at is None:
        return []
    return [next_run_id(workflow, trigger, at, run_id) for trigger in triggers]


# A time's runs may be gone from the middle of its chain (``podium runs prune`` and
# DynamoDB's TTL remove each run a retention after its own end, so a failed first run
# goes before the rerun that succeeded): the walk reads past this many missing ids.
CHAIN_GAP = 3
MAX_CHAIN = 100  # runs of one scheduled time a walk reads at most


@dataclass(frozen=True)
class ChainWalk:
    """Where the walk along one scheduled time's chain of run ids stands: ``latest`` is
    the last run found, ``ahead`` the next backfill re-run id to read, ``misses`` how
    many ids in a row were not found. Pure: the service reads each walk's ``window`` (all
    walks' windows in one batched read) and gives back what it found to ``after``.

    Each id of the window comes with the ids of its operator's restart
    (``restart_ids``), read in the same batch: a restart found is the time's newer run
    (over the backfill's re-run of the same run, which only a run restarted before
    either saw the other has), and the walk goes on from it: ``restarts_of``, the
    restart just found, whose own restart the next window reads first. The gap is read
    along the backfill's ids only: a restart whose run and that run's own restart are
    both gone is not found."""

    workflow: str
    trigger: str
    at: int
    ahead: str
    read: int = 0
    misses: int = 0
    latest: str | None = None
    restarts_of: str | None = None

    @classmethod
    def start(cls, workflow: str, trigger: str, at: int) -> ChainWalk:
        return cls(workflow, trigger, at, first_run_id(workflow, trigger, at))

    @property
    def done(self) -> bool:
        return self.misses > CHAIN_GAP or self.read >= MAX_CHAIN

    def _chain(self) -> list[str]:
        """The backfill's ids to read next: enough to read past a gap of CHAIN_GAP."""
        ids = [self.ahead]
        for _ in range(min(CHAIN_GAP, MAX_CHAIN - self.read - 1)):
            ids.append(next_run_id(self.workflow, self.trigger, self.at, ids[-1]))
        return ids

    def window(self) -> list[str]:
        """The ids to read next: the chain's, each with its restart's ids."""
        ids = list(restart_ids(self.restarts_of)) if self.restarts_of is not None else []
        for run_id in self._chain():
            ids += [run_id, *restart_ids(run_id)]
        return ids

    def after(self, found: AbstractSet[str]) -> ChainWalk:
        if self.restarts_of is not None:
            restart = _restart_in(self.restarts_of, found)
            if restart is not None:
                return self._to_restart(restart)
        walk = self
        for run_id in self._chain():
            if walk.done:
                break
            seen = run_id in found
            walk = replace(
                walk,
                ahead=next_run_id(self.workflow, self.trigger, self.at, run_id),
                read=walk.read + 1,
                misses=0 if seen else walk.misses + 1,
                latest=run_id if seen else walk.latest,
                restarts_of=None,
            )
            # Restarted (even when the run itself is gone: pruned before its restart):
            # the rest of this window follows the old run, not the restart.
            restart = _restart_in(run_id, found)
            if restart is not None:
                return walk._to_restart(restart)
        return walk

    def _to_restart(self, restart: str) -> ChainWalk:
        return replace(
            self,
            ahead=next_run_id(self.workflow, self.trigger, self.at, restart),
            read=self.read + 1,
            misses=0,
            latest=restart,
            restarts_of=restart,
        )

    def next_id(self) -> str:
        """The id a new run of this time takes: after the latest run found."""
        if self.latest is None:
            return first_run_id(self.workflow, self.trigger, self.at)
        return next_run_id(self.workflow, self.trigger, self.at, self.latest)


def _restart_in(run_id: str, found: AbstractSet[str]) -> str | None:
    return next((new for new in restart_ids(run_id) if new in found), None)


def is_run_of(workflow: str, trigger: str, run_id: str, restart_of: str | None) -> bool:
    """Whether ``run_id`` is the id a backfill of ``trigger`` gives a scheduled time (its
    first run, or a rerun after ``restart_of``): the time is the id's ULID time, and
    the rest a digest of the trigger and the time (``trigger_run_id``)."""
    at = run_created_ms(run_id)
    if at is None:
        return False
    if run_id == first_run_id(workflow, trigger, at):
        return True
    return restart_of is not None and run_id == next_run_id(workflow, trigger, at, restart_of)


def driver_id(workflow: str, trigger: str, run_ids: Iterable[str]) -> str:
    """The id of a backfill's driver: a digest of the runs it has left to start, in
    order. The same backfill asked for again (a client's retry) has the same runs left,
    so the same driver: the later one takes over the chain instead of running beside it.
    A driver message from before drivers had ids is adopted under the id of its own
    runs, at tick 0 (no tick kept yet): its copies (the same runs) become one chain."""
    text = "\n".join([workflow, trigger, *run_ids])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_live_driver(seen: int, tick: int) -> bool:
    """Whether a driver message at ``tick`` is its backfill's live one, the trigger state
    holding ``seen`` for its driver (0: none). SQS delivers a message at least once, and
    each tick sends the next message: a copy whose tick has moved on (another copy took
    it), or whose driver ended, drops itself, so copies never grow into chains of their
    own. A tick sends the next message before it moves the tick on (to the next
    message's): a message whose sender died between the two finds the tick one behind
    its own, and is live too (else the backfill would hang on the sender's redelivery,
    which may go to the dead-letter queue). Tick 0 is a driver adopted from a message
    sent before drivers had ids: live until one of its copies made its first tick."""
    if tick == 0:
        return seen == 0
    return seen > 0 and tick - 1 <= seen <= tick
