"""Run strategies: which runs of a workflow may be active, and in what order they start.

Every decision is one transaction on the workflow's slots (see adapters/dynamo_slots.py):
a start enqueues the run, then admits the oldest queued runs while slots are free; a run
that ends gives its slot back and admits the next (under last_only the newest, the
older queued ones discarded: runs queued before a switch to it). Semantics:
docs/run-strategies.md.

An admission moves the run's sweeper check to a start's horizon in the same
transaction (core/engine/checks.py ``admitted_check``): an admitter that dies before it
sends the run's start message leaves a RUNNING run with no steps, and the sweeper redoes
its (idempotent) start a few minutes later, not at a check half an hour out.

strict_sequential's block belongs to the strict queue: a FAILED run blocks it only while
the active version is strict_sequential, and a run admitted under another strategy
clears it (the same write). An unblock wins over the release of a failed run that comes
after it: it gives back, without blocking, the slot of every holder that has ended.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace

from podium.core.dsl.models import Strategy, WorkflowDefinition
from podium.core.engine.checks import admitted_check
from podium.core.engine.errors import RunNotFound
from podium.core.engine.records import QueueEntry, RunRecord
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission, RunSlots
from podium.service import messages
from podium.service.context import Services
from podium.service.run_events import publish_run_status

log = logging.getLogger("podium.admission")

QUEUE_PAGE = 1_000  # queue entries a read takes (one Query: some 100 KB on DynamoDB)
# Runs a last_only pass discards at most: one transaction each (tens of ms on DynamoDB),
# so a pass over a queue of any length ends within seconds (the API answers within 29).
DISCARDS_PER_PASS = 250
PLACE_READ = 5_000  # queue entries a waiting reason reads at most
SHOWN_HOLDERS = 10  # slot or permit holders a waiting reason names at most


def admit_run(ctx: Services, run: RunRecord, defn: WorkflowDefinition) -> RunRecord:
    """Start ``run`` under its workflow's strategy, ``defn``'s: the active version's (a
    restart runs its old run's version under today's strategy); returns it as stored."""
    now = ctx.now()
    slots = ctx.store.run_slots()
    if defn.strategy is Strategy.FIRST_ONLY:
        started = replace(run, status=RunStatus.RUNNING, started_at=now)
        taken = slots.start_alone(started, now)
        if taken is None:
            ctx.metrics.count("RunsStarted")
            ctx.event_queue.send(messages.encode(messages.Start(run.run_id)))
            return started
        holder = next(iter(taken.holders), "another run")
        discarded = replace(
            run,
            status=RunStatus.DISCARDED,
            started_at=None,
            ended_at=now,
            reason=f"discarded: run {holder} is active (run_strategy first_only)",
        )
        ctx.store.create_run(discarded)  # recorded, never silently dropped
        publish_run_status(ctx, discarded)  # it ended before it started: no run_ended
        return discarded
    slots.enqueue(replace(run, status=RunStatus.QUEUED, started_at=None))
    if defn.strategy is not Strategy.LAST_ONLY:  # last_only admits after its supersede pass
        admit_next(ctx, run.workflow)
    return ctx.store.get_run(run.run_id)


def admit_next(ctx: Services, workflow: str) -> list[str]:
    """Admit the oldest queued runs while the active version's limit allows. Under
    last_only, only the newest run is admitted: the older queued ones are discarded
    first (``discard_replaced``), never started only to be stopped by the replacement
    pass that would follow (runs queued before a switch to it, or a paused workflow's).
    A pass that leaves older runs queued (more than ``DISCARDS_PER_PASS``) still admits
    the newest: the next passes discard the rest behind it."""
    # Only the active version's number is read: its definition is cached per version.
    defn = ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition
    strict = defn.strategy is Strategy.STRICT_SEQUENTIAL
    slots = ctx.store.run_slots()
    only: QueueEntry | None = None  # last_only's winner: the one run it may admit
    if defn.strategy is Strategy.LAST_ONLY and len(slots.queued(workflow, 2)) > 1:
        # One queued run is the newest already (a holder newer than it holds the one
        # slot last_only has): only a queue of two or more pays the pass's reads.
        newest = discard_replaced(ctx, workflow)
        if newest is None or newest.entry is None:
            return []  # nothing queued any more, or the newest holds the slot
        only = newest.entry
    admitted: list[str] = []
    # Bounded: a GONE entry (admitted or dropped by a racing writer) leaves the queue in
    # the same transaction, so each pass makes progress.
    for _ in range(defn.run_limit + 20):
        entries = [only] if only is not None else slots.queued(workflow, 1)
        if not entries:
            break
        now = ctx.now()
        check_at = admitted_check(now, stale_ms=ctx.stale_ready_ms)
        result = slots.admit(
            entries[0], limit=defn.run_limit, strict=strict, now=now, check_at=check_at
        )
        if result is Admission.ADMITTED:
            ctx.metrics.count("RunsStarted")
            admitted.append(entries[0].run_id)
            ctx.event_queue.send(messages.encode(messages.Start(entries[0].run_id)))
        if only is not None or result not in (Admission.ADMITTED, Admission.GONE):
            break
    return admitted


def queue_pages(slots: RunSlots, workflow: str) -> Iterator[list[QueueEntry]]:
    """The workflow's queue, ``QUEUE_PAGE`` entries a read, in arrival order."""
    after: QueueEntry | None = None
    while True:
        page = slots.queued(workflow, QUEUE_PAGE, after=after)
        if page:
            yield page
        if len(page) < QUEUE_PAGE:
            return
        after = page[-1]


@dataclass(frozen=True, slots=True)
class Newest:
    """last_only's winner among a workflow's runs, queued or holding a slot: the newest
    by creation time, then id (``key``); its queue entry when it is queued (``entry``);
    and the holders read before the queue was trimmed (``lifecycle.supersede`` stops
    those older than the winner)."""

    key: tuple[int, str]
    holders: frozenset[str]
    entry: QueueEntry | None = None

    @property
    def run_id(self) -> str:
        return self.key[1]


def discard_replaced(ctx: Services, workflow: str) -> Newest | None:
    """last_only: every queued run but the newest run of the workflow (queued or holding
    a slot) is DISCARDED, never started; returns that newest (None: no run queued or
    holding). Every pass over the same candidates agrees on one winner, whatever order
    concurrent passes run in. A holder whose run is gone (deleted by hand, expired) is
    no candidate: its slot is as good as free (``supersede`` and the sweeper give it
    back).

    The whole queue is read, a page at a time (the winner may be anywhere in it: a
    backfill made in parts, or a paused workflow, queues more than a page), but at most
    ``DISCARDS_PER_PASS`` runs are discarded per call, the oldest first, so a pass stays
    within a Lambda's time however long the queue: the runs left are discarded by the
    next passes (every start and end of a run of the workflow, and the sweeper's, once a
    minute), the winner admitted meanwhile (``admit_next``)."""
    slots = ctx.store.run_slots()
    oldest: list[QueueEntry] = []  # the ones this pass discards (and the winner, maybe)
    last: QueueEntry | None = None  # the newest queued run so far
    for page in queue_pages(slots, workflow):
        oldest += page[: DISCARDS_PER_PASS + 1 - len(oldest)]
        top = max(page, key=lambda e: (e.created_at, e.run_id))
        if last is None or (top.created_at, top.run_id) > (last.created_at, last.run_id):
            last = top
    holders = frozenset(slots.state(workflow).holders)
    candidates = [(last.created_at, last.run_id)] if last is not None else []
    ages = (holder_age(ctx, holder) for holder in sorted(holders))
    candidates += [age for age in ages if age is not None]
    if not candidates:
        return None
    key = max(candidates)
    newest = Newest(key, holders, last if last is not None and last.run_id == key[1] else None)
    now = ctx.now()
    for entry in [e for e in oldest if e.run_id != newest.run_id][:DISCARDS_PER_PASS]:
        dropped = slots.drop_queued(
            entry,
            RunStatus.DISCARDED,
            f"replaced by newer run {newest.run_id} (run_strategy last_only)",
            now,
        )
        if dropped:  # it ended before it started: no run_ended
            publish_run_status(ctx, ctx.store.get_run(entry.run_id))
    return newest


def holder_age(ctx: Services, holder: str) -> tuple[int, str] | None:
    """A slot holder's place among last_only's candidates: (created_at, run id); None
    when its run is gone."""
    try:
        return ctx.store.get_run(holder).created_at, holder
    except RunNotFound:
        return None


def on_activated(ctx: Services, workflow: str) -> list[str]:
    """A version became active: a block left by a strict_sequential failure does not
    hold a workflow whose active strategy is another one (it would come back, unread
    till then, with a later switch back to strict_sequential); and its limit may let
    queued runs start (a switch to last_only discards all queued runs but the newest:
    ``admit_next``). Idempotent."""
    defn = ctx.definitions.get(workflow, ctx.store.active_version(workflow)).definition
    if defn.strategy is not Strategy.STRICT_SEQUENTIAL:
        slots = ctx.store.run_slots()
        if slots.state(workflow).blocked_by is not None:
            slots.unblock(workflow)
    return admit_next(ctx, workflow)


def release_slot(ctx: Services, run: RunRecord) -> None:
    """Give an ended run's slot back (idempotent) and let the queue move on."""
    ctx.store.run_slots().release(run.workflow, run.run_id, block=_blocks(ctx, run))
    admit_next(ctx, run.workflow)


def _blocks(ctx: Services, run: RunRecord) -> bool:
    """Does this ended run block its workflow's queue? A FAILED run of a
    strict_sequential version, while the active version is strict_sequential too (a
    block under another strategy would only wait, unread, for a switch back)."""
    if run.status is not RunStatus.FAILED:
        return False
    strict = Strategy.STRICT_SEQUENTIAL
    if ctx.definitions.get(run.workflow, run.version).definition.strategy is not strict:
        return False
    active = ctx.store.active_version(run.workflow)
    return ctx.definitions.get(run.workflow, active).definition.strategy is strict


def unblock(ctx: Services, workflow: str) -> list[str]:
    """strict_sequential: let the queue move on after a failed run. A failed run whose
    release is still to come (a crash cut its follow-ups short) is released here,
    without a block: the release that comes later finds no slot to give back, and so
    blocks nothing (an unblock wins over a release of the same failure that arrives
    after it). A run still running is not forgiven in advance."""
    slots = ctx.store.run_slots()
    for holder in sorted(slots.state(workflow).holders):
        try:
            run = ctx.store.get_run(holder)
        except RunNotFound:
            continue  # the sweeper gives a gone run's slot back
        if run.status.terminal:
            slots.release(workflow, holder, block=False)
    slots.unblock(workflow)
    return admit_next(ctx, workflow)


def waiting_reason(ctx: Services, run: RunRecord) -> str | None:
    """Why a QUEUED run waits: its place in the queue and who holds the slots."""
    if run.status is not RunStatus.QUEUED:
        return None
    slots = ctx.store.run_slots()
    state = slots.state(run.workflow)
    # Admission follows the active version's limit, not the one the run was started on.
    defn = ctx.definitions.get(run.workflow, ctx.store.active_version(run.workflow)).definition
    parts = [_place_in_queue(slots, run)]
    if state.blocked_by:
        parts.append(
            f"the queue is blocked by failed run {state.blocked_by} (strict_sequential);"
            f" run 'podium unblock {run.workflow}'"
        )
    elif defn.run_limit == 0:
        parts.append("the workflow is paused (parallel: 0); raise the limit to resume")
    elif state.holders:
        # Named up to SHOWN_HOLDERS: a {parallel: N} may have thousands active.
        names = sorted(state.holders)
        more = len(names) - SHOWN_HOLDERS
        tail = f" and {more:,} more" if more > 0 else ""
        parts.append(f"behind active run(s) {', '.join(names[:SHOWN_HOLDERS])}{tail}")
    return "; ".join(parts)


def _place_in_queue(slots: RunSlots, run: RunRecord) -> str:
    """``queued at position P of N``: the entries before the run's own, counted a page
    at a time. Read by ``runs show``, the API and the console (which polls it), so at
    most ``PLACE_READ`` entries are read (a consistent read of a page of 1,000 costs
    some 25 read units on DynamoDB, and a COUNT Query as much: it is priced by the data
    it goes over): past them the count is a lower bound (``5,000+``)."""
    read = 0
    position: int | None = None
    full = False
    for page in queue_pages(slots, run.workflow):
        if position is None:
            ids = [e.run_id for e in page]
            if run.run_id in ids:
                position = read + ids.index(run.run_id) + 1
        read += len(page)
        if read >= PLACE_READ:
            full = len(page) == QUEUE_PAGE  # more may follow
            break
    more = "+" if full else ""
    if position is not None:
        return f"queued at position {position:,} of {read:,}{more}"
    if full:
        return f"queued behind {read:,}{more} runs"
    return "queued"  # it left the queue as this read it (admitted or dropped)
