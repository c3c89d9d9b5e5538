"""An operator's retry of a failed step while its run still runs: what it reopens.

A step that ended FAILED (or TIMED_OUT) with its retries used up has already decided
its successors: each was SKIPPED ("upstream failed", and the skips propagated down), a
join counted the failed arrival, and a sink below was counted as done; if the failure
failed the run, the run is *failing*, and every step whose turn came since was SKIPPED
("run is failing"). Retrying the step in place (Maestro's restart of a step in a running
instance) takes those decisions back where nothing started yet:

- the step goes FAILED -> RETRY_WAIT (status.STEP_REOPENINGS) and its next attempt runs now;
- every step below it that the engine skipped, or a join still waiting (PENDING), is
  reopened: its item (and a join's arrivals) deleted, so that it is decided afresh when
  its predecessors end again; the walk stops at a step that started (READY, RUNNING, an
  end of its own: a one_failed handler that ran stays as it ran) or that an operator
  skipped;
- when this step was the run's only failure, the run is no longer failing, and the steps
  skipped only because it was ("run is failing") are reopened too, with what is below them;
- the sinks among the reopened steps (and the step itself, if it is a sink) are uncounted,
  so the run cannot end before they end again;
- a reopened join's other predecessors that had ended lose their arrival with the item:
  their follow-ups are replayed (idempotent) to arrive again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from podium.core.engine.actions import SKIPPED_BY, topological_order
from podium.core.engine.decide import RUN_FAILING, fails_run
from podium.core.engine.graph import Graph
from podium.core.engine.records import StepRecord
from podium.core.engine.status import StepStatus

# What a reopened item may be when it is deleted: decided by the engine, not started.
REOPENABLE: frozenset[StepStatus] = frozenset({StepStatus.SKIPPED, StepStatus.PENDING})


@dataclass(frozen=True, slots=True)
class ReopenPlan:
    reopen: tuple[str, ...]  # step items to delete, predecessors first
    uncount: tuple[str, ...]  # sinks whose count is taken back
    replay: tuple[str, ...]  # predecessors of reopened steps to replay if they ended
    unfail: bool  # the run is no longer failing (this step was its only failure)


def _engine_decided(record: StepRecord) -> bool:
    if record.status is StepStatus.PENDING:
        return True
    return record.status is StepStatus.SKIPPED and not (record.reason or "").startswith(SKIPPED_BY)


def other_failures(graph: Graph, step: str, records: Mapping[str, StepRecord]) -> list[str]:
    """The run's other failed steps that fail it (no recovering handler follows)."""
    return sorted(
        s for s, r in records.items() if s != step and r.status.failure and fails_run(graph, s)
    )


def plan_reopen(
    graph: Graph, step: str, records: Mapping[str, StepRecord], run_failing: bool
) -> ReopenPlan:
    """What retrying ``step`` (failed, in a run that still runs) takes back, from the
    run's step items as they are now."""
    unfail = run_failing and fails_run(graph, step) and not other_failures(graph, step, records)
    starts = list(graph.successors[step])
    if unfail:
        starts.extend(
            s
            for s, r in records.items()
            if r.status is StepStatus.SKIPPED and r.reason == RUN_FAILING
        )
    reopened: set[str] = set()
    stack = starts
    while stack:
        current = stack.pop()
        record = records.get(current)
        if current in reopened or current == step or record is None:
            continue
        if not _engine_decided(record):
            continue  # started, ended on its own, or skipped by an operator: it stays
        reopened.add(current)
        stack.extend(graph.successors[current])
    order = tuple(s for s in topological_order(graph) if s in reopened)
    sinks = tuple(s for s in (step, *order) if graph.is_sink(s))
    replay = tuple(
        sorted(
            {
                pred
                for s in order
                for pred in graph.predecessors[s]
                if pred not in reopened and pred != step
            }
        )
    )
    return ReopenPlan(order, sinks, replay, unfail)
