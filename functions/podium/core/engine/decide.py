"""Pure decisions: what happens next when a step ends, an attempt fails, or a run drains.

The service layer turns each decision into one conditional write; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.core.dsl.models import StepBase
from podium.core.engine.graph import Graph
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus, StepStatus

UPSTREAM_FAILED = "upstream failed"
RUN_FAILING = "run is failing: no new step starts"


@dataclass(frozen=True, slots=True)
class CreateStep:
    """A successor with one predecessor: create its item directly (READY or SKIPPED)."""

    step: str
    status: StepStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ArriveAtJoin:
    """A successor with several predecessors: record this arrival (an idempotent set add)."""

    step: str
    pred: str
    pred_complete: bool


SuccessorAction = CreateStep | ArriveAtJoin


def start_status(pred_complete: bool, run_failing: bool) -> tuple[StepStatus, str | None]:
    """The default join rule (one_success) for a step whose predecessors are all terminal."""
    if not pred_complete:
        return StepStatus.SKIPPED, UPSTREAM_FAILED
    if run_failing:
        return StepStatus.SKIPPED, RUN_FAILING
    return StepStatus.READY, None


def after_step_ended(
    graph: Graph, step: str, outcome: StepStatus, run_failing: bool
) -> list[SuccessorAction]:
    actions: list[SuccessorAction] = []
    complete = outcome.complete
    for succ in graph.successors[step]:
        if len(graph.predecessors[succ]) == 1:
            status, reason = start_status(complete, run_failing)
            actions.append(CreateStep(succ, status, reason))
        else:
            actions.append(ArriveAtJoin(succ, step, complete))
    return actions


def join_resolution(
    graph: Graph, step: str, arrived: int, failed_arrivals: int, run_failing: bool
) -> tuple[StepStatus, str | None] | None:
    """None while predecessors are still running; else the status the join moves to."""
    if arrived < len(graph.predecessors[step]):
        return None
    return start_status(failed_arrivals == 0, run_failing)


@dataclass(frozen=True, slots=True)
class Retry:
    next_attempt: int
    delay_seconds: int


def after_attempt_failed(spec: StepBase, attempt: int) -> Retry | None:
    """A fixed-delay retry while attempts remain (full retry policies come later)."""
    if attempt <= spec.retries:
        return Retry(attempt + 1, spec.retry_delay_seconds)
    return None


def run_outcome(run: RunRecord, sinks_done: int) -> RunStatus | None:
    """The final status once every sink is terminal (then every step is: a step becomes
    terminal only after all its predecessors did, so every step has a terminal sink
    below it only once it is terminal itself)."""
    if sinks_done < run.sinks_total:
        return None
    return RunStatus.FAILED if run.failing else RunStatus.SUCCEEDED
