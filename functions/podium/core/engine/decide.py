"""Pure decisions: what happens next when a step ends, an attempt fails, or a run drains.

The service layer turns each decision into one conditional write; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from podium.core.dsl.models import FailureMode, JoinRule
from podium.core.engine.graph import Graph
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.engine.step_error import STOPPED, TIMEOUT, StepError

RUN_FAILING = "run is failing: no new step starts"
UPSTREAM_FAILED = "upstream failed"
# The reasons of a step skipped by its join's rule from what its predecessors did (a
# condition that did not hold, a branch not taken, no failure to handle): a rerun from
# the same outcomes decides the same (``skipped_as_decided``).
NO_FAILURE_TO_HANDLE = "no upstream failure to handle (join: one_failed)"
NO_EDGE_TAKEN = "no incoming edge taken (join: one_success)"
_ALL_SUCCESS_NOT_HELD = "join all_success: "  # then "{taken} of {edges} incoming edges taken"


class EdgeState(str, Enum):
    TAKEN = "taken"  # source completed and its condition (if any) held
    NOT_TAKEN = "not_taken"  # source completed and the condition did not hold, or skipped
    FAILED = "failed"  # source failed (or its condition could not be evaluated)


def edge_state(source_outcome: StepStatus, condition_holds: bool | None) -> EdgeState:
    """``condition_holds`` is None when the edge has no condition (or was not evaluated)."""
    if source_outcome.failure:
        return EdgeState.FAILED
    if source_outcome.complete and condition_holds is not False:
        return EdgeState.TAKEN
    return EdgeState.NOT_TAKEN


@dataclass(frozen=True, slots=True)
class CreateStep:
    """A successor with one predecessor: create its item directly (READY or SKIPPED)."""

    step: str
    status: StepStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ArriveAtJoin:
    """A successor with several predecessors: record this arrival (counted once)."""

    step: str
    pred: str
    edge: EdgeState


SuccessorAction = CreateStep | ArriveAtJoin

# Rules that ask for a failure or run in any case: they still start in a failing run.
_RUN_WHEN_FAILING = frozenset({JoinRule.ONE_FAILED, JoinRule.ALL_DONE})


def starts_in_failing_run(rule: JoinRule) -> bool:
    return rule in _RUN_WHEN_FAILING


def join_holds(rule: JoinRule, edges: int, taken: int, failed: int) -> bool:
    if rule is JoinRule.ONE_SUCCESS:
        return taken >= 1 and failed == 0
    if rule is JoinRule.ALL_SUCCESS:
        return taken == edges
    if rule is JoinRule.ONE_FAILED:
        return failed >= 1
    return True  # ALL_DONE


def start_status(
    rule: JoinRule, edges: int, taken: int, failed: int, run_failing: bool
) -> tuple[StepStatus, str | None]:
    """What a step does once all its predecessors have ended."""
    if not join_holds(rule, edges, taken, failed):
        return StepStatus.SKIPPED, _why_not(rule, edges, taken, failed)
    if run_failing and rule not in _RUN_WHEN_FAILING:
        return StepStatus.SKIPPED, RUN_FAILING
    return StepStatus.READY, None


def _why_not(rule: JoinRule, edges: int, taken: int, failed: int) -> str:
    if failed and rule in (JoinRule.ONE_SUCCESS, JoinRule.ALL_SUCCESS):
        return UPSTREAM_FAILED
    if rule is JoinRule.ONE_FAILED:
        return NO_FAILURE_TO_HANDLE
    if rule is JoinRule.ALL_SUCCESS:
        return f"{_ALL_SUCCESS_NOT_HELD}{taken} of {edges} incoming edges taken"
    return NO_EDGE_TAKEN


def skipped_as_decided(reason: str | None) -> bool:
    """Whether a SKIPPED step was skipped by its join's rule, from its predecessors'
    outcomes alone: no failure made it (``UPSTREAM_FAILED``, ``RUN_FAILING``), nor an
    operator (``skipped by ...``). A restart that takes over those predecessors decides
    it again the same way (core/engine/actions.reused_steps)."""
    return reason is not None and (
        reason in (NO_EDGE_TAKEN, NO_FAILURE_TO_HANDLE) or reason.startswith(_ALL_SUCCESS_NOT_HELD)
    )


def after_step_ended(
    graph: Graph,
    step: str,
    outcome: StepStatus,
    run_failing: bool,
    condition: Callable[[str], bool | None] = lambda _succ: None,
) -> list[SuccessorAction]:
    """``condition(succ)`` evaluates the edge ``step -> succ`` (None: no condition); it is
    called only when the step completed."""
    actions: list[SuccessorAction] = []
    for succ in graph.successors[step]:
        holds = condition(succ) if outcome.complete else None
        state = edge_state(outcome, holds)
        if len(graph.predecessors[succ]) == 1:
            taken = 1 if state is EdgeState.TAKEN else 0
            failed = 1 if state is EdgeState.FAILED else 0
            status, reason = start_status(graph.join[succ], 1, taken, failed, run_failing)
            actions.append(CreateStep(succ, status, reason))
        else:
            actions.append(ArriveAtJoin(succ, step, state))
    return actions


def join_resolution(
    graph: Graph, step: str, arrived: int, taken: int, failed: int, run_failing: bool
) -> tuple[StepStatus, str | None] | None:
    """None while predecessors are still running; else the status the join moves to."""
    edges = len(graph.predecessors[step])
    if arrived < edges:
        return None
    return start_status(graph.join[step], edges, taken, failed, run_failing)


def fails_run(graph: Graph, step: str) -> bool:
    """A failure fails the run unless a recovering handler (``recover: true``) follows."""
    return step not in graph.handled


def failed_status(error: StepError, mode: FailureMode) -> StepStatus:
    """How a step ends once its retries are used up. A timeout is TIMED_OUT whatever the
    failure mode (Maestro: failure modes do not mask it)."""
    if error.category == TIMEOUT:
        return StepStatus.TIMED_OUT
    if error.category == STOPPED:  # a child run that was stopped (a subworkflow's)
        return StepStatus.STOPPED
    if mode is FailureMode.IGNORE_FAILURE:
        return StepStatus.FAILED_IGNORED
    return StepStatus.FAILED


def run_outcome(run: RunRecord, sinks_done: int) -> RunStatus | None:
    """The final status once every sink is terminal (then every step is: a step becomes
    terminal only after all its predecessors did, so every step has a terminal sink
    below it only once it is terminal itself)."""
    if sinks_done < run.sinks_total:
        return None
    return run_status_of(run)


def run_status_of(run: RunRecord) -> RunStatus:
    """Priority FAILED > TIMED_OUT > SUCCEEDED (STOPPED comes only from an action)."""
    if run.failing:
        return RunStatus.FAILED
    if run.timed_out:
        return RunStatus.TIMED_OUT
    return RunStatus.SUCCEEDED
