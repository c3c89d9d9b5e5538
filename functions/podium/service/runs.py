"""Use cases: start a run, read a run with its steps and timeline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.params import check_evaluated, resolve_params
from podium.core.engine.errors import RunConflict
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import RunStatus
from podium.service import messages
from podium.service.bindings import run_binding
from podium.service.context import Services

MAX_PARAMS_BYTES = 32 * 1024


def start_run(
    ctx: Services,
    workflow: str,
    params: Mapping[str, Any] | None = None,
    *,
    version: int | None = None,
    trigger: str = "api",
    run_id: str | None = None,
) -> RunRecord:
    """Create the run (state first), then ask the advance handler to start its roots.

    ``run_id`` makes a start idempotent for callers that retry (the API passes a client
    token); a second start with the same id returns the first run."""
    wv = ctx.store.get_workflow_version(workflow, version)
    compiled = ctx.definitions.get(workflow, wv.version)
    literal = resolve_params(compiled.definition, params or {})
    now = ctx.now()
    run = RunRecord(
        run_id=run_id or ctx.ids.new_id(),
        workflow=workflow,
        version=wv.version,
        status=RunStatus.RUNNING,
        params=literal,
        created_at=now,
        started_at=now,
        sinks_total=len(compiled.graph.sinks),
        trigger=trigger,
    )
    evaluated = compiled.expressions.evaluate_params(literal, run_binding(run))
    run = replace(run, params=check_evaluated(compiled.definition, evaluated))
    if len(json.dumps(run.params, default=str)) > MAX_PARAMS_BYTES:
        raise DefinitionError(
            [
                Issue(
                    "params",
                    f"params are larger than {MAX_PARAMS_BYTES} bytes; pass a"
                    " reference (an S3 key) instead of the data",
                )
            ]
        )
    try:
        ctx.store.create_run(run)
    except RunConflict as conflict:
        # The same start again (a retried request, or a write whose reply was lost):
        # answer with the stored run and send its start message again (starting is
        # idempotent), because the first attempt may have died before sending it.
        if conflict.current is None or conflict.current.workflow != workflow:
            raise
        run = conflict.current
    ctx.event_queue.send(messages.encode(messages.Start(run.run_id)))
    return run


@dataclass(frozen=True)
class RunView:
    run: RunRecord
    steps: list[StepRecord]
    events: list[TimelineEvent]
    step_order: list[str]  # definition order, for display


def describe_run(ctx: Services, run_id: str) -> RunView:
    run = ctx.store.get_run(run_id)
    steps = ctx.store.list_steps(run_id)
    events = ctx.store.list_events(run_id)
    order = [s.id for s in ctx.definitions.get(run.workflow, run.version).definition.steps]
    rank = {sid: i for i, sid in enumerate(order)}
    steps.sort(key=lambda s: (rank.get(s.step.split("/", 1)[0], len(rank)), s.step))
    return RunView(run, steps, events, order)


def list_runs(ctx: Services, workflow: str, limit: int = 20) -> list[RunRecord]:
    return ctx.store.list_runs(workflow, limit)
