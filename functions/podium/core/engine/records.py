"""What the store holds: runs, step instances, workflow versions and timeline events.

Times are epoch milliseconds (ints are smaller in DynamoDB than ISO strings, and writes are
billed per KB). Step instances are keyed by an iteration path so loops fit later:
``load`` today, ``load/3/train`` for a foreach iteration.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from podium.core.engine.status import RunStatus, StepStatus


@dataclass(frozen=True, slots=True)
class WorkflowVersion:
    name: str
    version: int
    document: dict[str, Any]  # the validated definition as JSON-ready data
    digest: str  # sha256 of the canonical document: a re-push of the same text is a no-op
    created_at: int
    active_version: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    workflow: str
    version: int
    status: RunStatus
    params: dict[str, Any]
    created_at: int
    sinks_total: int
    failing: bool = False
    timed_out: bool = False  # a step (or the run) timed out: ends TIMED_OUT unless FAILED
    # When the run was first flagged failing or timed out. A replayed decision of a step
    # that ended before it decides as the original did (its successors were released
    # before the failure: they run, Maestro's fail_after_running).
    failing_since: int | None = None
    started_at: int | None = None
    ended_at: int | None = None
    error: str | None = None
    trigger: str = "api"
    reason: str | None = None  # why a run was discarded or stopped
    # A child run stopped because an ancestor's deadline ended it: until when a result
    # recorded for one of its waiting attempts (a callback's) is that attempt's result,
    # as in a run its own deadline ended (service/lifecycle.results_by).
    results_by: int | None = None
    # A child run's ancestors' deadline (the earliest, by their own ``timeout``), set at
    # its creation: it bounds the child as its own would (service/deadlines.run_deadline).
    ancestor_deadline: int | None = None
    # Identity (core/engine/identity.py): a child run (a loop iteration, a subworkflow)
    # names its parent step; the root is the top run of the tree (None: itself).
    root: str | None = None
    parent_run: str | None = None
    parent_step: str | None = None
    parent_index: int | None = None
    depth: int = 0
    logical_date: str | None = None  # the date the run is for (a schedule's, a backfill's)
    restart_of: str | None = None  # the run this one restarts
    # A restart from a step of a loop iteration (``per_day/3/load``): that path, on the
    # new top run only; its restarted iterations read it from their root (service/restart.py).
    restart_from: str | None = None
    # The operator request that made this run (a restart's request id), set at creation:
    # that request asked again after a crash between the run and its record (its
    # timeline event) is answered with this run, not refused as a second restart.
    request_id: str | None = None
    # A terminal run whose follow-ups (slot, permits, next queued run) are all done. Until
    # then it stays in the store's active index, so the sweeper redoes what a crash lost.
    settled: bool = False
    # In the sweeper's index of due work while unsettled (core/engine/checks.py). A loop
    # iteration starts out of it: it costs its run item two index writes fewer, and its
    # loop's poll puts it in once it outlives its first check (service/loops.py).
    watched: bool = True
    # The workflow's tags and those given at start (core/tags.py); set once, at creation.
    tags: dict[str, str] = field(default_factory=dict)
    # When the sweeper next looks at the run while it is unsettled (core/engine/checks.py;
    # None: a few minutes after creation).
    check_at: int | None = None
    # A loop iteration's own values, as its expressions see them (``iteration``): its
    # index, its loop params, the enclosing loop's as ``parent``, a while's ``state``.
    iteration: dict[str, Any] | None = None
    # How many times an operator's retry in place reopened a failed step of this run: a
    # fence for the run's end, which is written only if no retry came since it read the
    # run (service/retry_failed.py, advance.complete_if_done).
    reopened: int = 0
    # How many runs in a row ``bus: podium`` event triggers started, each from a status
    # change of the one before, down to this one (0: started otherwise): its status
    # changes carry it, and a trigger starts none past MAX_CHAIN (core/engine/trigger_events.py).
    chain: int = 0


@dataclass(frozen=True, slots=True)
class RunFailure:
    """A failure that flags its run (Maestro's fail_after_running: no new step starts):
    its error, when it came (``RunRecord.failing_since``) and whether it was a time-out
    (the run then ends TIMED_OUT unless something else failed it)."""

    error: str
    at: int | None = None
    timed_out: bool = False

    def flag(self, run: RunRecord) -> RunRecord:
        """``run`` flagged: the first error and the first ``at`` are kept."""
        return replace(
            run,
            error=run.error or self.error,
            failing=run.failing or not self.timed_out,
            timed_out=run.timed_out or self.timed_out,
            failing_since=run.failing_since if run.failing_since is not None else self.at,
        )


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A QUEUED run's place in its workflow's queue (ordered by creation, then id)."""

    workflow: str
    run_id: str
    created_at: int


@dataclass(frozen=True, slots=True)
class PermitState:
    """A concurrency key's permits: holders (run/step -> lease expiry) and waiters."""

    active: int
    holders: dict[str, int]
    waiting: int
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class SlotState:
    """A workflow's run slots: who holds one, and whether the queue is blocked."""

    active: int
    holders: dict[str, int]  # run id -> when it got the slot
    blocked_by: str | None = None


@dataclass(frozen=True, slots=True)
class StepRecord:
    run_id: str
    step: str  # iteration path
    status: StepStatus
    attempt: int = 0  # number of the current (or last) attempt; 0 = never started
    ready_at: int | None = None
    started_at: int | None = None
    ended_at: int | None = None
    lease_until: int | None = None
    error: str | None = None
    output: Any = None
    reason: str | None = None
    waiting_key: str | None = None  # the concurrency key it queues for
    waiting_since: int | None = None  # its place in that key's queue
    due_at: int | None = None  # RETRY_WAIT: when the next attempt may start
    error_type: str | None = None  # the last error's type (core/engine/step_error.py)
    # Retries used so far, per retrier ("0", "1", ...) and per default budget ("platform").
    retry_counts: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] | None = None  # the step params its last attempt rendered
    # Where the last attempt's logs are ({"function", "request_id"} of a Lambda call).
    log_ref: dict[str, Any] | None = None
    # wait_for: the signals that released the step ({name: {params, payload, id, ...}}),
    # read by its templates as signal.<name>; set when it leaves WAITING_FOR_SIGNALS.
    signals: dict[str, Any] | None = None
    # wait_for with a ``since: step_start`` entry: when the signals its step was released
    # with in the run this one redoes were sent ({name: sent_at}; {} when it redoes none),
    # read once as its wait begins so that no check reads the old run again
    # (service/signal_waits.py kept_floor). None: not read (no such entry, or written
    # before it was kept).
    kept_signals: dict[str, int] | None = None
    arrived: int = 0  # join: predecessors that have ended (each counted once)
    taken_arrivals: int = 0  # join: ... whose edge was taken
    failed_arrivals: int = 0  # join: ... that failed
    # A loop step (foreach, while, subworkflow): its child runs launched so far (a mark
    # that only rises), and those counted as ended, by outcome (each counted once).
    children_launched: int = 0
    children_ok: int = 0
    children_failed: int = 0
    children_stopped: int = 0
    loop: dict[str, Any] | None = None  # the evaluated iteration space (or its reference)
    # The attempt a callback's result was accepted for while it waited (the API notes it
    # on the step after recording it: StateStore.note_result). An end of that attempt
    # by a deadline (its timer read no result yet) yields to it: the result came in time.
    result_for: int | None = None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Only exceptional events get items: retries, reclaims, actions, pauses."""

    run_id: str
    at: int
    event_id: str
    kind: str  # "retry", "reclaim", "run_failed", ...
    step: str | None = None
    attempt: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
