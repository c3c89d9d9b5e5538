"""Step and run statuses, their flags, and the one table of allowed transitions.

Every status check in Podium goes through these flags or ``can_transition``; nothing
compares status strings ad hoc (Maestro's ``StepInstance.Status`` is the model).
"""

from __future__ import annotations

from enum import Enum


class StepStatus(str, Enum):
    """Lifecycle of one step instance (one step at one iteration path)."""

    PENDING = "PENDING"  # waiting for predecessors (join items only)
    READY = "READY"  # may be claimed by a worker
    WAITING_FOR_SIGNALS = "WAITING_FOR_SIGNALS"
    WAITING_FOR_PERMITS = "WAITING_FOR_PERMITS"
    PAUSED = "PAUSED"
    RUNNING = "RUNNING"
    RETRY_WAIT = "RETRY_WAIT"  # an attempt failed, the next one is scheduled
    SUCCEEDED = "SUCCEEDED"
    FAILED_IGNORED = "FAILED_IGNORED"  # failed, but counts as success downstream
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    STOPPED = "STOPPED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def terminal(self) -> bool:
        return self in _STEP_TERMINAL

    @property
    def complete(self) -> bool:
        """Success-like: downstream treats the step as having succeeded."""
        return self in (StepStatus.SUCCEEDED, StepStatus.FAILED_IGNORED)

    @property
    def retryable(self) -> bool:
        """An attempt ending here may be retried by the step's retry policy."""
        return self in (StepStatus.FAILED, StepStatus.TIMED_OUT)

    @property
    def failure(self) -> bool:
        return self in (StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.STOPPED)

    @property
    def claimable(self) -> bool:
        """A worker may start an attempt from this status."""
        return self in CLAIMABLE


# The one answer to "which statuses may a worker claim from" (adapters and plans use it).
CLAIMABLE: frozenset[StepStatus] = frozenset({StepStatus.READY, StepStatus.RETRY_WAIT})

_STEP_TERMINAL = frozenset(
    {
        StepStatus.SUCCEEDED,
        StepStatus.FAILED_IGNORED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.STOPPED,
        StepStatus.TIMED_OUT,
    }
)

_S = StepStatus
STEP_TRANSITIONS: dict[StepStatus, frozenset[StepStatus]] = {
    _S.PENDING: frozenset({_S.READY, _S.SKIPPED, _S.STOPPED, _S.WAITING_FOR_SIGNALS}),
    # READY -> WAITING_FOR_SIGNALS: a step with wait_for, decided ready, waits for its
    # signals before its first attempt is claimed (service/signal_waits.py).
    _S.READY: frozenset(
        {
            _S.RUNNING,
            _S.SKIPPED,
            _S.STOPPED,
            _S.PAUSED,
            _S.WAITING_FOR_PERMITS,
            _S.FAILED,
            _S.WAITING_FOR_SIGNALS,
        }
    ),
    _S.WAITING_FOR_SIGNALS: frozenset({_S.READY, _S.STOPPED, _S.TIMED_OUT, _S.SKIPPED}),
    # WAITING_FOR_PERMITS -> PAUSED: woken in a paused run, it leaves the key's queue.
    _S.WAITING_FOR_PERMITS: frozenset({_S.READY, _S.RUNNING, _S.STOPPED, _S.SKIPPED, _S.PAUSED}),
    _S.PAUSED: frozenset({_S.READY, _S.STOPPED, _S.SKIPPED}),
    # RUNNING -> READY: a worker gives back a claim it has not started (too little time
    # left in its invocation to run it), or a start that did nothing (its look-up was
    # throttled: core/engine/plans.plan_start_give_back); the attempt number goes back
    # with it, so its next claim is the same attempt, under the same key.
    _S.RUNNING: frozenset(
        {
            _S.SUCCEEDED,
            _S.FAILED,
            _S.FAILED_IGNORED,
            _S.RETRY_WAIT,
            _S.STOPPED,
            _S.TIMED_OUT,
            _S.READY,
        }
    ),
    # RETRY_WAIT -> PAUSED: its next attempt came due while the run was paused.
    # RETRY_WAIT -> WAITING_FOR_SIGNALS: an operator's retry of a step whose wait_for
    # never matched (its wait timed out) waits for its signals again first.
    _S.RETRY_WAIT: frozenset(
        {
            _S.RUNNING,
            _S.STOPPED,
            _S.SKIPPED,
            _S.FAILED,
            _S.WAITING_FOR_PERMITS,
            _S.PAUSED,
            _S.WAITING_FOR_SIGNALS,
        }
    ),
    _S.SUCCEEDED: frozenset(),
    _S.FAILED_IGNORED: frozenset(),
    _S.FAILED: frozenset(),
    _S.SKIPPED: frozenset(),
    _S.STOPPED: frozenset(),
    _S.TIMED_OUT: frozenset(),
}

# An operator's retry of a failed step in a running run reopens it: its next attempt is
# scheduled now (core/engine/reopen.py). Kept apart from STEP_TRANSITIONS, whose terminal
# statuses stay sinks: no engine path ever leaves a terminal status.
STEP_REOPENINGS: dict[StepStatus, frozenset[StepStatus]] = {
    _S.FAILED: frozenset({_S.RETRY_WAIT}),
    _S.TIMED_OUT: frozenset({_S.RETRY_WAIT}),
}

# Statuses a step item may be created in (items are created lazily, when first reached;
# PAUSED: reached while its run is paused; SUCCEEDED: taken over by a restart;
# WAITING_FOR_SIGNALS: a step with wait_for whose claim found no item).
STEP_INITIAL: frozenset[StepStatus] = frozenset(
    {_S.PENDING, _S.READY, _S.SKIPPED, _S.PAUSED, _S.SUCCEEDED, _S.WAITING_FOR_SIGNALS}
)


class RunStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    TIMED_OUT = "TIMED_OUT"
    DISCARDED = "DISCARDED"

    @property
    def terminal(self) -> bool:
        return self in _RUN_TERMINAL

    @property
    def complete(self) -> bool:
        return self is RunStatus.SUCCEEDED

    @property
    def active(self) -> bool:
        """Holds (or waits for) a slot: not finished."""
        return not self.terminal


_RUN_TERMINAL = frozenset(
    {
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.STOPPED,
        RunStatus.TIMED_OUT,
        RunStatus.DISCARDED,
    }
)

_R = RunStatus
RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    _R.QUEUED: frozenset({_R.RUNNING, _R.STOPPED, _R.DISCARDED}),
    _R.RUNNING: frozenset({_R.SUCCEEDED, _R.FAILED, _R.STOPPED, _R.TIMED_OUT, _R.PAUSED}),
    # A paused run still ends: killed, failed at once (fail_immediately) or timed out.
    _R.PAUSED: frozenset({_R.RUNNING, _R.STOPPED, _R.FAILED, _R.TIMED_OUT}),
    _R.SUCCEEDED: frozenset(),
    _R.FAILED: frozenset(),
    _R.STOPPED: frozenset(),
    _R.TIMED_OUT: frozenset(),
    _R.DISCARDED: frozenset(),
}


class IllegalTransition(ValueError):
    """A caller asked for a transition the table does not allow: a programming error."""


def can_transition(current: StepStatus | RunStatus, target: StepStatus | RunStatus) -> bool:
    if isinstance(current, StepStatus) and isinstance(target, StepStatus):
        return target in STEP_TRANSITIONS[current]
    if isinstance(current, RunStatus) and isinstance(target, RunStatus):
        return target in RUN_TRANSITIONS[current]
    return False


def sources_of(target: StepStatus) -> frozenset[StepStatus]:
    """Every status from which ``target`` may be reached (the expected set of a write)."""
    return frozenset(s for s, targets in STEP_TRANSITIONS.items() if target in targets)


def require_transition(current: StepStatus | RunStatus, target: StepStatus | RunStatus) -> None:
    if not can_transition(current, target):
        raise IllegalTransition(f"{current.value} -> {target.value} is not an allowed transition")


def require_step_write(current: StepStatus, target: StepStatus) -> None:
    """A step write a store may make: a transition of the table, or a reopening."""
    if target in STEP_REOPENINGS.get(current, frozenset()):
        return
    require_transition(current, target)
