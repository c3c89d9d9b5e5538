"""Ports: what the service layer needs from the outside world (Protocols).

Adapters implement them: DynamoDB/SQS/Lambda for AWS, memory fakes for unit tests, and
an in-process queue for the embedded runtime. The contract tests pin their behaviour.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from podium.core.dead_letters import DeadLetter, DeadLetterCount
from podium.core.engine.decide import EdgeState
from podium.core.engine.permits import PermitNeed, QueuePlace
from podium.core.engine.records import (
    PermitState,
    QueueEntry,
    RunFailure,
    RunRecord,
    SlotState,
    StepRecord,
    TimelineEvent,
    WorkflowVersion,
)
from podium.core.engine.signals import (
    ConsumedMark,
    HeadPage,
    ParamMatch,
    Signal,
    SignalHead,
    Waiter,
)
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.trigger_index import RouteActivations


class StateStore(Protocol):
    # workflows ---------------------------------------------------------------
    def put_workflow_version(
        self,
        name: str,
        document: dict[str, Any],
        digest: str,
        now: int,
        *,
        activate: bool = True,
    ) -> tuple[WorkflowVersion, bool]:
        """Store a new immutable version (N+1) and activate it (unless ``activate`` is
        False and another version is active: a workflow's first version is always
        active); (version, created). Pushing the same digest as the latest version
        creates nothing."""
        ...

    def list_workflow_versions(self, name: str, limit: int = 100) -> list[WorkflowVersion]:
        """The newest ``limit`` versions, newest first. Raises WorkflowNotFound."""
        ...

    def activate_workflow_version(
        self,
        name: str,
        version: int,
        *,
        only_if_latest: bool = False,
        only_if_active: int | None = None,
    ) -> WorkflowVersion:
        """Make ``version`` the active one (one conditional write: it must exist).
        Raises WorkflowNotFound. ``only_if_latest``: also only while it is the latest
        version (an identical push making it active again must not override a version
        pushed since); raises VersionSuperseded, changing nothing, when it is not.
        ``only_if_active``: also only while that version is the active one (an
        activation or a rollback decided from the active version it read); raises
        ActiveVersionMoved, changing nothing, when another is."""
        ...

    def get_workflow_version(self, name: str, version: int | None = None) -> WorkflowVersion:
        """The given version, or the active one. Raises WorkflowNotFound."""
        ...

    def active_version(self, name: str) -> int:
        """The active version's number only (one small read). Raises WorkflowNotFound."""
        ...

    def list_workflows(self) -> list[tuple[str, int]]:
        """Every pushed workflow with its active version, by name (the console's list)."""
        ...

    # breakpoints -------------------------------------------------------------
    def breakpoints(self, workflow: str) -> frozenset[str]:
        """The steps of ``workflow`` with a breakpoint (every attempt pauses first)."""
        ...

    def set_breakpoint(self, workflow: str, step: str, *, on: bool) -> None:
        """Add (``on``) or remove one breakpoint; idempotent."""
        ...

    # runs --------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None: ...

    def get_run(self, run_id: str) -> RunRecord:
        """Strongly consistent. Raises RunNotFound."""
        ...

    def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """Many runs at once, by id: those that exist. Consistent reads, batched
        (DynamoDB: BatchGetItem, 100 keys a call): a loop reads its children this way."""
        ...

    def list_runs(
        self, workflow: str, limit: int = 20, before: tuple[int, str] | None = None
    ) -> list[RunRecord]:
        """Newest first, ``limit`` of them when there are that many (however big the
        items). ``before``: only runs older than this ``(created_at, run_id)``, the last
        one a previous call returned (the next page). A loop's iteration runs are not
        listed: they are found from their loop step (child ids are derived from it),
        which keeps them out of DynamoDB's by-workflow index."""
        ...

    def transition_run(
        self,
        run_id: str,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        reopened: int | None = None,
    ) -> RunRecord:
        """One conditional write; raises RunConflict with the current record. With
        ``reopened``, the write also requires the run's ``reopened`` count to be that
        (a run's end: no operator's retry in place came since the run was read)."""
        ...

    def mark_run_reopened(self, run_id: str) -> RunRecord:
        """An operator's retry in place is reopening a failed step of this RUNNING run:
        add 1 to its ``reopened`` count (so an end decided from an earlier read of the
        run fails its condition). Raises RunConflict when the run is not RUNNING."""
        ...

    def settle_run(self, run_id: str) -> None:
        """A terminal run's follow-ups are all done: it leaves the active index.

        Idempotent; raises RunConflict when the run is not terminal."""
        ...

    def list_active_run_ids(self) -> list[str]:
        """Runs not yet settled: active ones, and ended ones whose follow-ups are not all
        done (a sparse index: the sweeper's list of runs to look at). Unwatched runs
        (``watch_run``) are not listed."""
        ...

    def list_due_run_ids(self, now: int, limit: int) -> list[str]:
        """The sweeper's due work: unsettled runs whose check time (``RunRecord.check_at``,
        by default a few minutes after creation: core/engine/checks.py) is at or before
        ``now``, earliest first, at most ``limit``."""
        ...

    def set_run_check(self, run_id: str, at: int) -> None:
        """Move an unsettled run's next check to ``at``. A settled, unwatched or missing
        run is left alone (it never comes back to the index)."""
        ...

    def keep_run_items(self, run: RunRecord) -> None:
        """Keep the items of an unended run from expiring. A store whose run items expire
        some days after their last write (the DynamoDB table's TTL: adapters/
        dynamo_expiry.py) would otherwise lose the first steps and timeline of a run
        that waits longer than that (for a signal, a long sleep, a paused run). The
        sweeper calls it at each check of an unended run; it reads or writes only for a
        run old enough to need it. It keeps too the children the run still needs: those
        of its steps that have not ended (a loop reads its ended iterations' outputs
        when it ends: core/engine/retention.py ``children_kept_with``), a bounded number
        per call. A store that expires nothing does nothing."""
        ...

    def watch_run(self, run_id: str, at: int) -> bool:
        """Put an unsettled run created unwatched (``RunRecord.watched``: a loop
        iteration) in the index of due work, due at ``at``. True when it entered now;
        a run watched already, settled or missing is left alone (False)."""
        ...

    def mark_run_failing(
        self, run_id: str, error: str, *, timed_out: bool = False, at: int | None = None
    ) -> bool:
        """Idempotent: sets the failing flag (or, with ``timed_out``, the timed-out flag)
        and keeps the first error and the first ``at`` (``failing_since``), on condition
        the run has not ended (its status is not terminal). True when the flag is on the
        run (set now or before); False when the run had ended, and nothing was written:
        a run's end stands as it was made (a stopped run carries no error, whatever
        failure is applied after it). Raises RunNotFound when there is no such run."""
        ...

    def clear_run_failing(self, run_id: str, since: int) -> bool:
        """Take back a run's failing and timed-out flags, its ``failing_since`` and its
        error, if ``failing_since`` is still ``since`` (the failure the caller saw: an
        operator retries the failed step). False when it is not (or the run is gone)."""
        ...

    # steps -------------------------------------------------------------------
    def create_step(self, step: StepRecord) -> None:
        """Create a step item that must not exist; raises StepExists(current)."""
        ...

    def reopen_step(self, run_id: str, step: str, *, expected: frozenset[StepStatus]) -> bool:
        """Delete a step item whose status is in ``expected``, with its join's arrivals,
        so that the step is decided afresh (what an operator's retry of a failed step
        reopens: the steps its failure skipped). False when the item is gone or moved."""
        ...

    def uncount_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> None:
        """Take back a sink's count (idempotent): the sink is reopened and will end, and
        be counted, again. ``index`` and ``sinks`` as for count_sink."""
        ...

    def transition_step(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
    ) -> StepRecord:
        """One conditional write ``status IN expected [AND attempt = attempt]``, and with
        ``unless_result`` (a deadline ending the attempt ``attempt``) also ``no result
        noted for that attempt`` (``note_result``).

        Raises StepConflict(current) when the condition fails. ``changes`` sets step fields
        (a None value removes the field)."""
        ...

    def end_step_failing_run(
        self,
        run_id: str,
        step: str,
        *,
        expected: frozenset[StepStatus],
        attempt: int | None,
        to: StepStatus,
        changes: Mapping[str, Any],
        unless_result: bool = False,
        failure: RunFailure,
    ) -> bool:
        """A step's final failure and its run's flag in one atomic write: the step's
        transition as ``transition_step`` makes it, and the run flagged as
        ``mark_run_failing`` does. A worker dying between two writes would let a
        sibling branch that ends meanwhile read the run as not failing and start its
        successors.

        True when both were written. False when the run had ended (or is gone): the
        step's end is written alone, as a run's end stands as it was made. Raises
        StepConflict(current), with nothing written, when the step's condition fails."""
        ...

    def note_result(self, run_id: str, step: str, *, attempt: int) -> bool:
        """Note on the step that a result was recorded for ``attempt`` while it waits: one
        conditional write ``status = RUNNING AND attempt = attempt`` setting
        ``result_for``. False when the attempt is no longer waiting (its end won the
        race, and the result will not be applied); True again for the same attempt."""
        ...

    def count_sink(self, run_id: str, step: str, *, index: int, sinks: int) -> int:
        """Count a terminal sink step once (a replay adds nothing). Returns how many of
        the run's ``sinks`` sinks are counted, exactly once all of them are (and on
        every replay after); before that it may return fewer (a store that counts on
        several items returns what the one it wrote holds).

        ``index`` is the sink's place among its workflow's sinks (``Graph.sink_index``),
        the same for every run of a version: a store may mark that small number instead
        of the step's name (DynamoDB does, 2-4 bytes a sink, on items of 256 sinks each,
        so a run's counters stay small however many sinks it has)."""
        ...

    def count_sinks(self, run_id: str, steps: Mapping[str, int], *, sinks: int) -> int:
        """count_sink for every sink in ``steps`` (name -> index), then how many are
        counted (exactly): what a check that replays a run's ended sinks asks, in one
        call, so that a store may read what is counted once and write only the rest."""
        ...

    def sinks_counted(self, run_id: str, *, sinks: int) -> int:
        """How many of the run's ``sinks`` sinks are counted now (strongly consistent):
        what the run end checks again just before its write, as a retry in place may
        have taken a count back since the count that made the run look done."""
        ...

    def arrive(
        self, run_id: str, step: str, pred_index: int, edge: EdgeState, now: int
    ) -> StepRecord:
        """Record that predecessor number ``pred_index`` of a join ended: counted once
        however often it is repeated; creates the join's item PENDING if missing."""
        ...

    def get_step(self, run_id: str, step: str) -> StepRecord | None: ...

    def get_steps(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StepRecord]:
        """Many step items at once, by (run id, step): those that exist. Consistent reads,
        batched (DynamoDB: BatchGetItem, 100 keys a call, unprocessed keys retried): a
        loop reads its iterations' outputs this way, not one request per iteration."""
        ...

    # loop steps (foreach, while, subworkflow): their child runs -----------------
    def open_children(self, run_id: str, step: str, first: int, last: int) -> None:
        """Before children ``first..last-1`` of a loop (or subworkflow) step are created:
        mark them running on it, so that each is counted once when it ends. An index
        opened before is not opened again (a replayed launch cannot bring back a child
        that was counted). DynamoDB keeps them in sharded sets beside the step (no
        transaction per count, no hot item); the memory and SQLite stores count under
        one lock, and only check here that every counted child was opened."""
        ...

    def count_child(self, run_id: str, step: str, index: int, outcome: str) -> bool:
        """Settle the ended child ``index`` of the step (it leaves the active index) and
        add 1 to the step's counter of ``outcome`` ("ok", "failed" or "stopped"),
        exactly once: True when counted now, False when it was counted before (a
        replay). Raises RunConflict if the child is not terminal. DynamoDB writes the
        settle and the count one after the other: a crash between them leaves the child
        settled and uncounted, which the loop's poll finishes (``count_children``)."""
        ...

    def end_counted_child(
        self,
        child: RunRecord,
        *,
        expected: frozenset[RunStatus],
        to: RunStatus,
        changes: Mapping[str, Any],
        outcome: str,
        defer_count: bool = False,
    ) -> RunRecord:
        """A loop iteration whose end leaves nothing to follow up (core.engine.plans.
        ends_settled): the child goes from one of ``expected`` to ``to`` with
        ``changes`` and settles (leaves the active index), and its parent step's
        counter of ``outcome`` goes up 1, once. Returns ``child`` (as the caller read
        it) ended and settled: no read after the write. Raises RunConflict (with the
        current record) when the child is not in ``expected`` or was reopened since it
        was read. DynamoDB: two writes (the end, then the count), finished by the
        loop's poll (``count_children``) after a crash between them; elsewhere one. With
        ``defer_count``, DynamoDB leaves the count to the caller's ``count_children``
        (several children's counts in one write); the others count at once anyway."""
        ...

    def count_children(self, run_id: str, step: str, indexes: list[int], outcome: str) -> int:
        """Count the settled children ``indexes`` of the step (ended with
        ``end_counted_child(defer_count=True)``, or left uncounted by a crash between a
        settle and its count: the loop's poll) under ``outcome``, each exactly once
        (one already counted is skipped). Returns how many were counted now: always 0
        where the end counted it already. DynamoDB: one write per count shard touched."""
        ...

    def running_children(self, run_id: str, step: str) -> list[int]:
        """The indexes of the step's children not counted yet (opened, maybe not created
        yet, maybe ended and not yet counted), ascending: what a stop or a pause of the
        loop looks at, at most its concurrency, however many children it launched. An
        index opened whose child was never created stays listed until one is (an ending
        loop creates it STOPPED: service/loops.close_loop)."""
        ...

    def close_children(self, run_id: str, step: str) -> None:
        """The loop step is ending: mark it, before its running children are listed a
        last time, so that a launch racing the end finds the mark (``children_closed``,
        read after it opens its indexes) and creates nothing. Idempotent."""
        ...

    def children_closed(self, run_id: str, step: str) -> bool:
        """Whether ``close_children`` marked the step (a consistent read)."""
        ...

    def hold_children(self, run_id: str, step: str, reason: str | None) -> None:
        """A pause of the run marks its loop (or subworkflow) step with its ``reason``
        before it walks the step's children, and a resume clears it (None), so that a
        launch racing the pause learns of it from its own mark (``mark_launched``).
        Idempotent; no step: nothing is created. The mark goes with the step (a reopen
        deletes it)."""
        ...

    def mark_launched(
        self, run_id: str, step: str, launched: int, loop: dict[str, Any] | None = None
    ) -> str | None:
        """Raise the loop step's ``children_launched`` mark to ``launched`` (it never goes
        down: a stale writer changes nothing), and keep ``loop`` if none is stored yet.
        Returns the pause reason ``hold_children`` left on the step (None when none),
        read by the same write: DynamoDB's returned values."""
        ...

    def list_steps(self, run_id: str) -> list[StepRecord]: ...

    # timeline ----------------------------------------------------------------
    def put_event(self, event: TimelineEvent) -> None: ...

    def put_event_once(self, event: TimelineEvent) -> tuple[TimelineEvent, bool]:
        """Put ``event`` unless an event with its key (run, ``at``, ``event_id``) is
        stored: one conditional write. Returns (the stored one, created); a second put
        changes nothing and returns the first (a decision recorded once: the first of
        two callbacks for one attempt wins)."""
        ...

    def list_events(self, run_id: str) -> list[TimelineEvent]: ...

    # run slots ---------------------------------------------------------------
    def run_slots(self) -> RunSlots:
        """The run-slot view of the same storage (runs and slots change together)."""
        ...

    def permits(self) -> Permits:
        """The concurrency-key view of the same storage."""
        ...

    def signals(self) -> Signals:
        """The signal view of the same storage (signals, waiters, consumption marks)."""
        ...

    def trigger_states(self) -> TriggerStates:
        """Triggers' on/off state and watermarks, kept across versions."""
        ...


class Admission(str, Enum):
    ADMITTED = "admitted"
    FULL = "full"  # every slot is held
    BLOCKED = "blocked"  # strict_sequential: a failed run blocks the queue
    GONE = "gone"  # the run is no longer QUEUED (discarded, or admitted by another)


@dataclass(frozen=True, slots=True)
class ListedEntry(QueueEntry):
    """A queue entry as ``RunSlots.queued`` lists it: with its place in the queue (the
    adapter's own sort key), so that a page read after it starts right after it even
    once it left the queue, and a write to it needs no look-up of its key."""

    place: str = ""


class RunSlots(Protocol):
    """A workflow's run slots and FIFO queue, enforced by conditional writes alone.

    A slot is held by a run from admission until it ends; every change is a transaction
    whose condition names the slot count, the holder and the run's status."""

    def enqueue(self, run: RunRecord) -> None:
        """Create the run QUEUED together with its queue entry; RunConflict if it exists."""
        ...

    def queued(
        self, workflow: str, limit: int, *, after: QueueEntry | None = None
    ) -> list[QueueEntry]:
        """The oldest queued runs, in arrival order (strongly consistent): by creation
        time, then in the order they were enqueued, never by run id (the runs a backfill
        makes in one millisecond have ids that carry their scheduled times, not their
        order). ``after``: the last entry of the page before (an entry this listed keeps
        its place after it left the queue; any other is placed by a look-up, or, gone,
        at the start of its creation millisecond)."""
        ...

    def admit(
        self, entry: QueueEntry, *, limit: int, strict: bool, now: int, check_at: int
    ) -> Admission:
        """Give a slot to a queued run and make it RUNNING (started at ``now``, the
        sweeper's next check of it at ``check_at``), in one transaction. A ``strict``
        admission needs the queue unblocked; any other clears a block (a run admitted
        past a failure under another strategy: the block no longer orders anything)."""
        ...

    def start_alone(self, run: RunRecord, now: int) -> SlotState | None:
        """first_only: create the run RUNNING holding the workflow's only slot (and clear
        a block, as a non-strict ``admit`` does). Returns None when started, or the slots
        as they were when another run holds one."""
        ...

    def release(self, workflow: str, run_id: str, *, block: bool) -> bool:
        """Give a run's slot back (once: a repeat returns False); ``block`` marks the
        queue blocked by this run (strict_sequential after a failure)."""
        ...

    def state(self, workflow: str) -> SlotState: ...

    def unblock(self, workflow: str) -> None: ...

    def drop_queued(self, entry: QueueEntry, to: RunStatus, reason: str, now: int) -> bool:
        """QUEUED -> ``to`` (DISCARDED or STOPPED) and remove its queue entry; False if the
        run had already left the queue."""
        ...


class Claim(str, Enum):
    CLAIMED = "claimed"
    FULL = "full"  # a key has no free permit (or others wait before this step)
    CONFLICT = "conflict"  # the step is not claimable at that attempt (a duplicate)


@dataclass(frozen=True, slots=True)
class ClaimResult:
    outcome: Claim
    full_key: str | None = None
    current: StepRecord | None = None


class Permits(Protocol):
    """Concurrency keys: permits taken in the same transaction as the step's claim, and
    a FIFO queue of steps WAITING_FOR_PERMITS per key (docs/run-strategies.md)."""

    def claim(
        self,
        step: StepRecord,
        needs: Sequence[PermitNeed],
        *,
        attempt: int,
        changes: Mapping[str, Any],
    ) -> ClaimResult:
        """``step`` as read (READY or RETRY_WAIT at ``attempt - 1``) becomes RUNNING holding
        one permit of every key in ``needs``; a step that queued on a key leaves its
        queue in the same transaction."""
        ...

    def wait(self, step: StepRecord, key: str, limit: int, now: int) -> bool:
        """The step (READY or RETRY_WAIT) queues on ``key`` (WAITING_FOR_PERMITS), leaving
        the queue of another key it waited on; False if the step moved meanwhile."""
        ...

    def release(self, key: str, holder: str) -> bool:
        """Give a permit back, once (a repeat returns False)."""
        ...

    def queue(self, key: str, limit: int) -> list[tuple[str, str]]:
        """The (run id, step) pairs waiting on ``key``, first in line first."""
        ...

    def places(self, key: str, limit: int, *, after: QueuePlace | None = None) -> list[QueuePlace]:
        """At most ``limit`` places of ``key``'s queue, first in line first (strongly
        consistent); ``after``: the last place of the page before."""
        ...

    def head(self, key: str) -> tuple[str, str] | None:
        """The (run id, step) first in ``key``'s queue."""
        ...

    def abandon(self, step: StepRecord, to: StepStatus, changes: Mapping[str, Any]) -> bool:
        """A queued step that will never claim (its run ended or is failing) ends as ``to``
        and leaves its queue in the same transaction."""
        ...

    def head_place(self, key: str) -> QueuePlace | None:
        """The place first in ``key``'s queue, with the time it was taken (``head`` and
        the ``since`` a ``drop_orphan`` of it needs)."""
        ...

    def drop(self, step: StepRecord) -> bool:
        """A step that ended, or is held PAUSED, while it still held its place in
        ``step.waiting_key``'s queue (as read; an end or a hold decided from a read taken
        before it queued) leaves the queue, and its record forgets the place, in one
        transaction conditional on the step still at that place with the status read.
        False if it is not (already dropped, or resumed meanwhile: READY at its place, it
        claims as the waiter it is)."""
        ...

    def drop_orphan(self, place: QueuePlace) -> bool:
        """A place in a queue that no step holds (its step's record is gone, or holds no
        place there: ``orphaned``) leaves the queue, one waiter less, in one transaction
        conditional on that. False if the place is gone or its step holds it."""
        ...

    def state(self, key: str) -> PermitState:
        """The key's counts, holders and last limit seen; a store that keeps a key's
        holders in one bounded item (DynamoDB's 400 KB) says ``limit`` is what it holds
        once another holder would not fit (its claims are refused as FULL)."""
        ...

    def forget(self, key: str) -> bool:
        """Delete ``key``'s record (its counts and the last limit seen) on condition that
        nobody holds a permit of it and nobody waits on it: a run's own
        max_parallel_steps key, once the run ended and gave its permits back, would else
        stay for good, one per run. False, deleting nothing, when someone holds or waits
        (or it is gone). A later claim or wait starts the key afresh, as a new one."""
        ...


class MessageQueue(Protocol):
    """At-least-once delivery of small JSON messages."""

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None: ...

    def send_many(self, messages: Sequence[Mapping[str, Any]]) -> None: ...


class DeadLetterQueues(Protocol):
    """The queues' dead letters (core/dead_letters.py): SQS DLQs when deployed, the local
    home's dead-letter queues locally."""

    def counts(self) -> list[DeadLetterCount]:
        """How many dead letters each DLQ holds, by queue name."""
        ...

    def peek(self, limit: int, *, redrivable_only: bool = False) -> list[DeadLetter]:
        """The dead letters, left where they are, up to ``limit`` shared between the
        queues (core/dead_letters.py ``share_limit``); ``redrivable_only``: only those a
        redrive would move."""
        ...

    def redrive(self, limit: int) -> list[DeadLetter]:
        """Move dead letters back to the queue they came from, up to ``limit``; returns
        those moved. Messages with no queue to go back to (the trigger DLQ) stay."""
        ...

    def purge(self, queue: str, limit: int) -> list[DeadLetter]:
        """Delete the dead letters of ``queue`` (one of those ``counts`` names), up to
        ``limit``: once dealt with by hand, so its alarm stops; returns those deleted."""
        ...


@dataclass(frozen=True, slots=True)
class Invocation:
    function: str
    payload: Mapping[str, Any]
    idempotency_key: str  # run/step/attempt: the target can de-duplicate on it
    timeout_seconds: float | None = None  # the step's timeout, when it has one


@dataclass(frozen=True, slots=True)
class InvocationResult:
    ok: bool
    output: Any = None
    error: str | None = None  # the message
    error_type: str | None = None  # the exception's class name, or a Podium.* type
    retryable: bool = True  # False: podium.NonRetryable, or an output that can never fit
    traceback: str | None = None
    request_id: str | None = None  # the Lambda invocation's: where its logs are found


class FunctionRunner(Protocol):
    def invoke(self, invocation: Invocation) -> InvocationResult: ...


class Timers(Protocol):
    """Deliver a message at a due time: an SQS delay up to 15 minutes, a one-time
    EventBridge Scheduler schedule beyond. Firing late or twice must be harmless (every
    receiver checks the state it expects), so ``dedup`` only saves work."""

    def schedule(self, message: Mapping[str, Any], due_ms: int, *, queue: str, dedup: str) -> None:
        """``queue``: "work" or "events"."""
        ...

    def cancel(self, *, dedup: str, due_ms: int, set_ms: int | None = None) -> None:
        """Best effort: withdraw the timer named ``dedup`` (due at ``due_ms``) when the
        work it would wake has ended another way. A one-time schedule is deleted; an SQS
        delay cannot be withdrawn (its receiver finds the attempt closed and drops it).
        ``set_ms``: when the timer was first set (a schedule was made if it was far off
        then, however near it is now; None: not known, judged from now). Cancelling a
        timer that fired or never existed is harmless."""
        ...


class Payloads(Protocol):
    """Values too big for a state item (step outputs over a few KB), stored once and
    referenced from the item: S3 when deployed, files in the local home."""

    def put(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key`` (overwriting: keys name what they hold); returns
        the reference to keep."""
        ...

    def get(self, ref: str) -> bytes:
        """Raises a NotFound error when the object is gone, and reads nothing of a
        reference to anywhere this store does not write (another bucket or prefix, a
        file outside its directory): it too is NotFound."""
        ...


class LogReader(Protocol):
    """What an attempt of a deployed lambda step printed: its function's CloudWatch log
    stream, between the invocation's START and END lines."""

    def read(self, function: str, request_id: str, start_ms: int, end_ms: int) -> str:
        """Raises a NotFound error when the lines are not (or no longer) there."""
        ...


EVENT_SOURCE = "podium"
"""The ``source`` of every event Podium publishes (Events.publish sets it)."""


class Events(Protocol):
    """Status changes for users to route (an EventBridge bus; kept in memory locally).
    Each event is ``{"detail-type": ..., "detail": {...}}``; delivery is at least once."""

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None: ...


class Signals(Protocol):
    """Signal instances (core/engine/signals.py), kept until they expire, and the steps
    waiting for them. Maestro's signal store, with a TTL: a DynamoDB item per signal
    (the table's TTL deletes it), a SQLite table locally, dicts in tests."""

    def send(self, signal: Signal) -> tuple[Signal, bool]:
        """Store ``signal`` once per ``signal_id``: returns (the stored one, created). A
        second send of an unexpired signal returns the first one and stores nothing."""
        ...

    def find(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        limit: int = 1,
    ) -> list[Signal]:
        """Unexpired signals of ``name`` whose params match every condition, sent at or
        after ``since``; newest first, at most ``limit`` (strongly consistent). Reads as
        few signals as it can: the newest ``limit`` when no condition filters, and the
        payloads of only the signals it returns; but with conditions it reads on until
        it has ``limit``, through every signal of the name when fewer match. A caller
        that must bound its work pages ``find_heads`` (service/signal_waits.py)."""
        ...

    def find_heads(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        before: tuple[int, str] | None = None,
        size: int,
    ) -> HeadPage:
        """One page of ``name``'s signals sent at or after ``since``, newest first,
        older than ``before`` (a page's ``next``; None: from the newest): it looks at
        ``size`` unexpired signals at most, matching or not (the bound on its work),
        returns the heads of those matching every condition, and reads no payload.
        Expired signals still stored count toward no page (DynamoDB's page reads on past
        them, a bounded number). Strongly consistent. ``whole`` reads the payloads of
        those the caller keeps. A head says whether a mark of its id alone may be its
        (``SignalHead.id_marks``: only for a head stored in the layout before)."""
        ...

    def whole(self, heads: Sequence[SignalHead]) -> list[Signal]:
        """The signals of ``heads`` with their payloads (read by key, strongly
        consistent, one round trip for a few), in the same order. One whose id now
        holds another signal (it expired and the id was sent again since) is left
        out, as ``find`` leaves it out."""
        ...

    def add_waiter(self, name: str, waiter: Waiter, expires_at: int) -> None:
        """``waiter`` is woken when a signal of ``name`` arrives (idempotent)."""
        ...

    def waiters(self, name: str, now: int) -> list[Waiter]:
        """The unexpired waiters of ``name``."""
        ...

    def remove_waiter(self, name: str, waiter: Waiter) -> None:
        """Idempotent."""
        ...

    def last_miss(self, name: str, waiter: Waiter) -> int | None:
        """When (ms) a check of ``waiter`` last found no signal of ``name`` matching its
        wait, as ``note_miss`` kept it; None when none is kept (``add_waiter`` forgets
        it). May be older than the latest (read eventually consistent)."""
        ...

    def note_miss(self, name: str, waiter: Waiter, at: int) -> None:
        """Keep ``at`` as ``waiter``'s last miss: a check that began at ``at`` found no
        signal of ``name`` matching. Nothing when the waiter is gone or has a later one."""
        ...

    def consume(
        self,
        consumer: str,
        signal_ids: Sequence[str],
        group: str,
        expires_at: int,
        made_at: int | None = None,
    ) -> bool:
        """Mark the signals used by ``consumer`` (a signal trigger) for ``group`` (the
        run they start), all or none: True when every one is now marked for ``group``
        (also when this same group marked them before: a replay); False, writing
        nothing, when any is marked for another group. The keys are opaque: a signal
        trigger marks instances (core/engine/signals.py ``instance_key``). ``made_at``
        (the consume's time) is kept on the marks, read back by ``marks``."""
        ...

    def consumed_by(self, consumer: str, signal_id: str) -> str | None:
        """The group that ``consumer`` used the signal for, None when it has not: a
        signal trigger that consumed a set and died before its run started finds the set
        again from any of its signals."""
        ...

    def marks(self, consumer: str, keys: Sequence[str]) -> dict[str, ConsumedMark]:
        """``consumer``'s marks of these keys (those that have one; strongly consistent,
        one round trip for a few keys, any number of keys), expired or not: a mark
        outlives its signals."""
        ...

    def get(self, signal_id: str, *, now: int) -> Signal | None:
        """The unexpired signal with this id (strongly consistent), else None."""
        ...


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A recurring schedule of a cron or rate trigger: at each time it puts ``message``
    on the event queue, with the scheduled time in place of ``SCHEDULED_TIME``."""

    name: str
    expression: str  # cron(...) or rate(...), EventBridge Scheduler's syntax
    timezone: str
    message: dict[str, Any]
    flexible_minutes: int = 0  # jitter: a flexible time window
    start_ms: int | None = None  # a rate's anchor
    # The trigger's own rule, for schedules fired in process (podium dev, tests).
    cron: str | None = None
    rate_minutes: int | None = None

    def same_as(self, other: ScheduleSpec) -> bool:
        """What a deployed schedule keeps (the rule as Scheduler's expression)."""
        return (self.expression, self.timezone, self.message, self.flexible_minutes) == (
            other.expression,
            other.timezone,
            other.message,
            other.flexible_minutes,
        )


SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"  # Scheduler's context attribute


class Schedules(Protocol):
    """Recurring schedules (EventBridge Scheduler deployed; kept in memory locally, where
    ``podium dev`` fires them itself). Names are unique within Podium's group."""

    def put(self, spec: ScheduleSpec) -> None:
        """Create the schedule, or update it to ``spec`` (idempotent)."""
        ...

    def delete(self, name: str) -> None:
        """Idempotent: a missing schedule is not an error."""
        ...

    def get(self, name: str) -> ScheduleSpec | None:
        """The schedule as deployed (its rule as Scheduler's expression), or None."""
        ...


@dataclass(frozen=True, slots=True)
class TriggerState:
    """What is kept about a trigger across versions: whether it is on, since when it
    exists (a signal trigger counts only later signals), its last scheduled time fired
    (the catch-up watermark)."""

    enabled: bool
    since: int  # a rate trigger's slots are anchored on it: it never moves
    fired_at: int | None = None
    # The last time it matched and could not start its run, and why (its params did
    # not render or validate): what `podium triggers list` shows, as nothing else would.
    failed_at: int | None = None
    error: str | None = None
    # A cron or rate trigger's rule (its schedule's expression and time zone) and when
    # it took effect: catch-up's floor, kept here too so that a schedule deleted while
    # the trigger is off (or podium dev's, made again at each start) keeps it.
    rule: str | None = None
    rule_since: int | None = None
    # How many times its backfills were cancelled: a backfill remembers the count it saw
    # when it was asked for, and its driver stops once the count has moved past it.
    backfill_cancels: int = 0
    # Its backfills are paused: their drivers start no run until they are resumed.
    backfills_paused: bool = False
    # When it was last turned on again (``set_enabled`` from off to on; None: never):
    # a signal trigger counts only the signals sent since, as a disabled s3 or event
    # trigger drops what comes meanwhile (``since`` stays: a rate's slots hang on it).
    enabled_at: int | None = None
    # Its backfills' live drivers: each one's tick, by driver id (core/engine/backfill.py
    # ``driver_id``). A driver message carries the tick it expects: SQS delivers a
    # message at least once, and a copy whose tick is no longer there drops itself, so
    # a duplicate never starts a second chain of driver messages.
    backfill_drivers: Mapping[str, int] = field(default_factory=dict)


class TriggerStates(Protocol):
    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        """The trigger's state, created (``enabled``, since ``now``) when it has none."""
        ...

    def get_state(self, workflow: str, trigger: str) -> TriggerState | None:
        """One trigger's state, None when it has none (a strongly consistent read of one
        small item: what routing an event reads, calling ``ensure`` only when missing)."""
        ...

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        """Turn the trigger on or off (a state made, since ``now``, when it has none).
        Turned from off to on, its ``enabled_at`` becomes ``now`` (an atomic check of
        the old value); an enable of a trigger already on changes nothing."""
        ...

    def states(self, workflow: str) -> dict[str, TriggerState]: ...

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        """Move the watermark forward to ``at``; False when it was there already."""
        ...

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        """Keep the trigger's latest failure to start a run (``error`` at most 2,000
        characters); an older one does not replace a newer one."""
        ...

    def set_rule(self, workflow: str, trigger: str, rule: str, since: int) -> None:
        """Keep the trigger's schedule rule and when it took effect (no state: nothing)."""
        ...

    def cancel_backfills(self, workflow: str, trigger: str) -> int | None:
        """Cancel the trigger's backfills asked for until now: one more to the count of
        cancels (atomic: two cancels count two), the new count; None (nothing written)
        when the trigger has no state. A pause of its backfills ends with them (the
        same write): a backfill asked for after the cancel runs."""
        ...

    def pause_backfills(self, workflow: str, trigger: str, paused: bool) -> bool | None:
        """Pause (or resume) the trigger's backfills: their drivers start no run while
        paused. The value written; None (nothing written) when the trigger has no
        state."""
        ...

    def start_backfill_driver(self, workflow: str, trigger: str, driver: str) -> int | None:
        """Make this the live chain of the backfill driver ``driver``: its tick moved one
        on (1 when it has none; atomic), the new tick, which its next message carries
        (a message of an older tick, the same backfill asked for before, drops itself).
        None (nothing written) when the trigger has no state."""
        ...

    def advance_backfill_driver(
        self, workflow: str, trigger: str, driver: str, seen: int, to: int
    ) -> bool:
        """Set ``driver``'s tick to ``to`` on condition that it is still ``seen`` (the
        tick read); False (nothing written) when it is not: another copy of the message
        took the tick, or the driver ended. ``seen`` 0: on condition that the driver has
        no tick and the trigger a state (a driver adopted from a message sent before
        drivers had ids)."""
        ...

    def end_backfill_driver(self, workflow: str, trigger: str, driver: str, seen: int) -> bool:
        """Forget ``driver`` (it has nothing more to start, or stopped), on condition
        that its tick is still ``seen``; False (nothing written) when it is not."""
        ...

    # the routing index (core/engine/trigger_index.py) ----------------------------------
    def add_routes(self, workflow: str, keys: Collection[str]) -> None:
        """Add ``workflow`` under each routing key (idempotent). Raises RouteIndexFull
        when a key holds ``MAX_ROUTE_WORKFLOWS`` other workflows (the keys before it, in
        sorted order, may be added)."""
        ...

    def remove_routes(
        self, workflow: str, keys: Collection[str], generation: int, expired: Collection[str]
    ) -> bool:
        """Take ``workflow`` off each of ``keys`` and clear its activation marks
        ``expired``, all at once, on condition that its activation generation is still
        ``generation``; False (nothing written) when it is not. A key it is not under is
        left alone. (DynamoDB: one transaction per 99 keys, each on that condition.)"""
        ...

    def begin_activation(self, workflow: str, token: str, at: int) -> None:
        """Mark an activation of ``workflow`` in flight (before it adds its routes), and
        bump its activation generation."""
        ...

    def end_activation(self, workflow: str, token: str) -> bool:
        """Unmark it (once its version is active, or has failed to be) and bump the
        generation; False when the mark was gone: a prune cleared it as a crashed
        activation's, and may have taken keys this one added."""
        ...

    def route_activations(self, workflow: str) -> RouteActivations:
        """The activation generation and marks in flight of ``workflow`` (strongly
        consistent; zero and none when it never had any)."""
        ...

    def get_routes(self, keys: Collection[str]) -> dict[str, frozenset[str]] | None:
        """The workflows under each of ``keys`` (strongly consistent; DynamoDB: one
        BatchGetItem), or None while the index was never built (``mark_routes_built``):
        a store from before the index, whose workflows must be listed once."""
        ...

    def mark_routes_built(self) -> None:
        """Every workflow's routes are in: ``get_routes`` answers from now on."""
        ...


class Metrics(Protocol):
    """Operational metrics (CloudWatch EMF on Lambda; nothing locally)."""

    def count(self, name: str, value: int = 1) -> None: ...

    def milliseconds(self, name: str, value: float) -> None: ...

    def flush(self) -> None: ...


class Clock(Protocol):
    def now_ms(self) -> int: ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """Time-ordered, unique (a ULID)."""
        ...


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One attempt's external work (an ECS task, a Batch job, a Glue job run, a Step
    Functions execution), as its backend starts, finds and stops it."""

    kind: str  # the step type: "ecs_task", "batch_job", ...
    key: str  # run/step/attempt: names the work, so a lost start is found again
    spec: Any  # the step's model
    rendered: Mapping[str, Any]  # the step's templated request fields, rendered


class JobBackend(Protocol):
    """Starts and follows one kind of external work (adapters/jobs/). Every call may
    raise nothing but returns outcomes: API failures become failed outcomes
    (core/engine/external.py classes them)."""

    def start(self, request: JobRequest) -> Any:
        """Start the work (at most once per key: a start found running is returned);
        a ``JobOutcome`` (core.engine.external)."""
        ...

    def find(self, request: JobRequest) -> Any:
        """The work's current ``JobOutcome``, or None when it was never started."""
        ...

    def complete(self, request: JobRequest, outcome: Any) -> Any:
        """An ended outcome with what the step's output adds (a logs link, the output
        an event left out)."""
        ...

    def stop(self, request: JobRequest, reason: str) -> None:
        """Cancel the work; idempotent (stopping ended or unknown work does nothing)."""
        ...


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One request of an http step, to a host the allow-list let through."""

    method: str
    scheme: str  # "http" or "https"
    host: str
    port: int
    path: str  # path and query
    headers: Mapping[str, str]
    body: bytes | None
    connect_timeout: float
    read_timeout: float  # the whole response, not each read
    max_bytes: int


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    too_large: bool = False  # the body went past ``max_bytes`` (and was cut there)


class HttpTransportError(Exception):
    """No response: ``kind`` is "connect", "timeout", "tls" or "protocol"; locally also
    "stand-in" (an ``[http.map]`` callable answered what no server could send)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class HttpTransport(Protocol):
    def send(self, call: HttpCall) -> HttpReply:
        """Raises HttpTransportError when no response came."""
        ...


class SecretNotFound(LookupError):
    pass


class Secrets(Protocol):
    def get(self, name: str) -> str:
        """A secret's value by name (Secrets Manager); raises SecretNotFound."""
        ...


@dataclass(frozen=True)
class HttpAccess:
    """What http steps may reach in this deployment, and how."""

    transport: HttpTransport
    allowed_hosts: frozenset[str] = frozenset()  # nothing by default
    secrets: Secrets | None = None
