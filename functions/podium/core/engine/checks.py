"""When the sweeper should next look at a run: the sparse index of due work.

Every unsettled run sits in the store's active index sorted by its next check time, and
a sweep pass reads only the runs whose check time has passed (bounded per pass). Nothing
on the hot path writes it: a run is created with a first check a few minutes out, and a
run that ends before then leaves the index when it settles, never looked at. A queued
run's admission (QUEUED -> RUNNING) moves its check in the same write to a start's
horizon (``admitted_check``): the admitter may die before it sends the run's start, and
a run that had waited past a sweep had its check half an hour out. The
sweeper, after looking at a run, moves its check to the earliest moment something of it
can next be due: an attempt's lease (an expired lease, a waiting step past its deadline),
a retry's due time, a ready step going stale, a running loop (polled, in case the
wake-up of an iteration that ended was lost), the run's own deadline; never sooner than
a minute, never later than half an hour (the safety net for what nothing names, such as
a lost follow-up of an ended step).
"""

from __future__ import annotations

from collections.abc import Iterable

from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.status import RunStatus, StepStatus

FIRST_CHECK_MS = 5 * 60_000  # after creation; most runs have settled by then
MIN_CHECK_MS = 60_000  # the sweeper's own schedule
MAX_CHECK_MS = 30 * 60_000
NEVER = 2**62


def first_check(run: RunRecord) -> int:
    """The check time of a run that was never looked at."""
    return run.check_at if run.check_at is not None else run.created_at + FIRST_CHECK_MS


def admitted_check(now: int, *, stale_ms: int) -> int:
    """The check time a queued run's admission at ``now`` writes: once its start message
    has had ``stale_ms`` to arrive (the sweeper then redoes a start that left no steps;
    a start is idempotent)."""
    return now + max(MIN_CHECK_MS, stale_ms)


def next_check(
    run: RunRecord,
    steps: Iterable[StepRecord],
    now: int,
    *,
    stale_ms: int,
    deadline: int | None = None,
    acted: bool = False,
) -> int:
    """The run's next check after a sweep looked at it (``acted``: the sweep re-drove
    something of it, so it looks again once that had time to happen)."""
    soonest = now + MIN_CHECK_MS
    latest = now + MAX_CHECK_MS
    if acted or run.status.terminal:
        # An ended run here has follow-ups left (settling takes it out of the index).
        # After a re-drive, a look once it had time to happen, or at the run's deadline
        # if that comes first (a lost deadline message is made up within a minute).
        if not acted:
            return soonest
        return max(soonest, min(now + stale_ms, deadline if deadline is not None else NEVER))
    if run.status is RunStatus.QUEUED:
        return latest  # its slot is reconciled by the workflow's runs
    due = [latest] if deadline is None else [latest, deadline]
    if run.status is not RunStatus.RUNNING:
        # Paused: nothing starts, but its running attempts' leases and the run's own
        # deadline still come due (timeouts keep counting through a pause).
        for step in steps:
            if step.status is StepStatus.RUNNING and step.lease_until is not None:
                due.append(step.lease_until)
            elif step.status is StepStatus.WAITING_FOR_SIGNALS:
                # Its deadline is the sweeper's to see (as in a running run).
                since = max(t for t in (step.ready_at, step.started_at, 0) if t is not None)
                due.append(since + stale_ms)
        return min(latest, max(soonest, min(due)))
    listed = list(steps)
    if not listed:
        # Started (admitted) and no step yet: its start message may have been lost.
        started = run.started_at if run.started_at is not None else run.created_at
        due.append(started + stale_ms)
    for step in listed:
        if step.status is StepStatus.RUNNING and step.children_launched:
            # A loop waiting on its children: the sweeper polls it (a lost wake-up).
            due.append(now + stale_ms)
        if step.status is StepStatus.RUNNING and step.lease_until is not None:
            due.append(step.lease_until)
        elif step.status is StepStatus.RETRY_WAIT and step.due_at is not None:
            due.append(step.due_at + stale_ms)  # its timer had a chance first
        elif not step.status.terminal:
            since = max(t for t in (step.ready_at, step.started_at, 0) if t is not None)
            due.append(since + stale_ms)
    return min(latest, max(soonest, min(due)))
