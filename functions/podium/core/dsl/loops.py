"""Loop steps' bodies: the steps inside a foreach, checked at push like a workflow of
their own, and built as one for the child runs that run them.

A body sees the workflow's params, its own steps, ``run`` and ``iteration`` (index,
loop values, and the enclosing loop's as ``iteration.parent``). Nesting (a foreach
inside a foreach) is bounded by the depth limit of core/engine/identity.py.
"""

from __future__ import annotations

from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.models import ForeachStep, WorkflowDefinition
from podium.core.engine.identity import MAX_DEPTH
from podium.core.engine.loops import LoopError, Space

FOREACH_ROOTS = frozenset({"iteration"})


def body_definition(defn: WorkflowDefinition, step: Any) -> WorkflowDefinition:
    """The loop step's body as a workflow: the same name and params, its own steps."""
    if not isinstance(step, ForeachStep):
        raise KeyError(f"{step.id} is not a loop step")
    body = WorkflowDefinition.model_construct(
        name=defn.name, params=defn.params, steps=list(step.steps)
    )
    body._scope_roots = FOREACH_ROOTS
    return body


def check_bodies(defn: WorkflowDefinition, depth: int = 0) -> list[Issue]:
    """Issues of every loop body (graph, expressions, static limits), with paths from
    the top (``steps[2].steps[0].depends_on``), nested loops included."""
    from podium.core.dsl.expressions import WorkflowExpressions
    from podium.core.dsl.graph_checks import check_graph

    issues: list[Issue] = []
    for i, step in enumerate(defn.steps):
        if not isinstance(step, ForeachStep):
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
        issues += _static_space(step, where)
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
