"""Loop steps' bodies: the steps inside a foreach, checked at push like a workflow of
their own, and built as one for the child runs that run them.

A body sees the workflow's params, its own steps, ``run`` and ``iteration`` (index,
loop values, and the enclosing loop's as ``iteration.parent``). Nesting (a foreach
inside a foreach) is bounded by the depth limit of core/engine/identity.py.
"""

from __future__ import annotations

from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.models import ForeachStep, WhileStep, WorkflowDefinition
from podium.core.engine.identity import MAX_DEPTH
from podium.core.engine.loops import LoopError, Space

FOREACH_ROOTS = frozenset({"iteration"})
WHILE_ROOTS = frozenset({"iteration", "state"})
# What a while's own expressions read: its initial state (params, run); its condition
# (and state, iteration); its update (and the iteration's steps).
STATE_ROOTS = frozenset({"params", "run"})
CONDITION_ROOTS = frozenset({"params", "run", "state", "iteration"})
UPDATE_ROOTS = CONDITION_ROOTS | {"steps"}


def body_definition(defn: WorkflowDefinition, step: Any) -> WorkflowDefinition:
    """The loop step's body as a workflow: the same name and params, its own steps."""
    if not isinstance(step, ForeachStep | WhileStep):
        raise KeyError(f"{step.id} is not a loop step")
    # The workflow's settings that concern a step (step_events) carry over; those of a
    # whole run (its timeout, strategy, triggers, outputs) belong to the top run only.
    body = WorkflowDefinition.model_construct(
        name=defn.name,
        params=defn.params,
        steps=list(step.steps),
        step_events=defn.step_events,
        tags=defn.tags,
    )
    body._scope_roots = FOREACH_ROOTS if isinstance(step, ForeachStep) else WHILE_ROOTS
    return body


def check_bodies(defn: WorkflowDefinition, depth: int = 0) -> list[Issue]:
    """Issues of every loop body (graph, expressions, static limits), with paths from
    the top (``steps[2].steps[0].depends_on``), nested loops included."""
    from podium.core.dsl.expressions import WorkflowExpressions
    from podium.core.dsl.graph_checks import check_graph

    issues: list[Issue] = []
    for i, step in enumerate(defn.steps):
        if not isinstance(step, ForeachStep | WhileStep):
            continue
        where = f"steps[{i}]"
        if depth + 1 > MAX_DEPTH:
            issues.append(
                Issue(
                    where,
                    f"loops nest more than {MAX_DEPTH} levels deep; flatten the inner ones"
                    " into a subworkflow or fewer levels",
                )
            )
            continue
        if isinstance(step, ForeachStep):
            issues += _static_space(step, where)
        else:
            issues += _while_expressions(step, where, defn)
        body = body_definition(defn, step)
        inner = check_graph(body)
        if not inner:
            try:
                WorkflowExpressions.of(body)
            except DefinitionError as exc:
                inner += exc.issues
            inner += check_bodies(body, depth + 1)
        issues += [Issue(f"{where}.{issue.path}", issue.message) for issue in inner]
    return issues


def _static_space(step: ForeachStep, where: str) -> list[Issue]:
    """A foreach over literal lists is checked now: its size and its zip lengths."""
    if any(isinstance(v, str) for v in step.over.values()):
        return []  # a template: checked when the step starts
    try:
        Space.of(step.over, step.mode.value)
    except LoopError as exc:
        return [Issue(f"{where}.over", str(exc))]
    return []


def _while_expressions(step: WhileStep, where: str, defn: WorkflowDefinition) -> list[Issue]:
    """A while's state, condition and update compile, and read only what they may."""
    from podium.core.expr import ExpressionError, compile_expression, compile_template

    issues: list[Issue] = []
    inner = {s.id for s in step.steps}

    def check(path: str, refs: frozenset[str], roots: frozenset[str]) -> None:
        for ref in sorted(refs):
            parts = ref.split(".")
            if parts[0] not in roots:
                allowed = ", ".join(sorted(roots))
                issues.append(Issue(path, f"unknown name '{parts[0]}' here; use {allowed}"))
            elif parts[0] == "params" and len(parts) > 1 and parts[1] not in defn.params:
                issues.append(Issue(path, f"unknown param '{parts[1]}'"))
            elif parts[0] == "steps" and len(parts) > 1 and parts[1] not in inner:
                issues.append(
                    Issue(
                        path,
                        f"unknown step '{parts[1]}': update reads the steps of the"
                        f" iteration ({', '.join(sorted(inner))})",
                    )
                )

    try:
        check(f"{where}.condition", compile_expression(step.condition).references, CONDITION_ROOTS)
    except ExpressionError as exc:
        issues.append(Issue(f"{where}.condition", exc.message))
    for field, values, roots in (
        ("state", step.state, STATE_ROOTS),
        ("update", step.update, UPDATE_ROOTS),
    ):
        for name, value in values.items():
            if not (isinstance(value, str) and "${" in value):
                continue
            try:
                check(f"{where}.{field}.{name}", compile_template(value).references, roots)
            except ExpressionError as exc:
                issues.append(Issue(f"{where}.{field}.{name}", exc.message))
    unknown = sorted(set(step.update) - set(step.state))
    if unknown:
        issues.append(
            Issue(
                f"{where}.update",
                f"updates state fields the initial state does not declare: {', '.join(unknown)};"
                " add them to state",
            )
        )
    return issues
