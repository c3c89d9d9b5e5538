"""Loop steps' bodies: the steps inside a foreach, checked at push like a workflow of
their own, and built as one for the child runs that run them.

A body sees the workflow's params, its own steps, ``run`` and ``iteration`` (index,
loop values, and the enclosing loop's as ``iteration.parent``). Nesting (a foreach
inside a foreach) is bounded by the depth limit of core/engine/identity.py.
"""

from __future__ import annotations

import re
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.models import Fields, ForeachStep, WhileStep, WorkflowDefinition
from podium.core.engine.identity import MAX_DEPTH
from podium.core.engine.loops import LoopError, Space
from podium.core.expr.shown import type_label

FOREACH_ROOTS = frozenset({"iteration"})
WHILE_ROOTS = frozenset({"iteration", "state"})
# What a while's own expressions read: its initial state (params, run); its condition
# (and state, iteration); its update (and the iteration's steps).
STATE_ROOTS = frozenset({"params", "run"})
CONDITION_ROOTS = frozenset({"params", "run", "state", "iteration"})
UPDATE_ROOTS = CONDITION_ROOTS | {"steps"}
# A top loop's iteration has no parent (a subworkflow's run is no iteration either):
# ``parent`` with no fields, so ``has(iteration.parent)`` stays a correct test there
# (false) while a read of a field of it, which could only fail when the step runs, is
# refused at push.
NO_PARENT: Fields = {}
# How core.dsl.expressions says a path reads a field of that parent (its fields: none).
_NO_PARENT_FIELD = re.compile(
    r"^(?P<where>iteration(?:\.parent)+) has no field '(?P<name>[^']*)'(?P<at>.*?);"
    r" its fields are: none$"
)


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
    body._scope_fields = _scope_fields(defn, step)
    return body


def _scope_fields(defn: WorkflowDefinition, step: ForeachStep | WhileStep) -> Fields:
    """What a loop's body (and a while's condition and update) know of ``iteration``
    and ``state``: an iteration holds its index, the loop params or the while's state,
    and the enclosing loop's iteration as ``parent`` (service/loops.py,
    runtimes/while_loop.py). A top loop has no parent: NO_PARENT."""
    parent = defn.scope_fields.get("iteration", NO_PARENT)
    if isinstance(step, ForeachStep):
        return {"iteration": {"index": None, **dict.fromkeys(step.over), "parent": parent}}
    state = dict.fromkeys(step.state)
    return {"iteration": {"index": None, "state": state, "parent": parent}, "state": state}


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
                    f"loops and subworkflows nest more than {MAX_DEPTH} levels deep (a"
                    " subworkflow counts as a level, and so do its loops); use fewer levels",
                )
            )
            continue
        if isinstance(step, ForeachStep):
            found = _static_space(step, where)
        else:
            found = _while_expressions(step, where, defn)
        body = body_definition(defn, step)
        inner = check_graph(body)
        if not inner:
            try:
                WorkflowExpressions.of(body)
            except DefinitionError as exc:
                inner += exc.issues
            inner += check_bodies(body, depth + 1)
        found += [Issue(f"{where}.{issue.path}", issue.message) for issue in inner]
        issues += found if "iteration" in defn.scope_fields else _no_parent(found, step.id)
    return issues


def _no_parent(issues: list[Issue], loop: str) -> list[Issue]:
    """The issues of a top loop (its body's and its nested loops', a while's condition
    and update), with a read of a field of the parent it does not have said as such:
    "iteration.parent has no field 'x'; its fields are: none" did not say why."""
    out = []
    for issue in issues:
        match = _NO_PARENT_FIELD.match(issue.message)
        if match is None:
            out.append(issue)
            continue
        where, name, at = match["where"], match["name"], match["at"]
        owner = where.rsplit(".", 1)[0]  # the top loop's iteration
        why = (
            f"the loop '{loop}' is not inside another loop, so its iterations have no parent"
            if owner == "iteration"
            else f"{owner} is an iteration of '{loop}', which is not inside another loop, so"
            " it has no parent"
        )
        message = (
            f"{where}.{name}{at} does not exist: {why} (iteration.parent exists only in a"
            " nested loop, a foreach or while inside another loop's steps); test for it"
            f" with has({where})"
        )
        out.append(Issue(issue.path, message))
    return out


def _static_space(step: ForeachStep, where: str) -> list[Issue]:
    """A foreach over literal lists is checked now: its size and its zip lengths (a
    template's, when the step starts: docs/workflow-language.md, "Limits"). Plain text,
    or a template that reads nothing and gives no list, never runs: refused now."""
    from podium.core.dsl.expressions import is_template
    from podium.core.expr import ExpressionError, compile_template

    issues: list[Issue] = []
    for name, value in step.over.items():
        path = f"{where}.over.{name}"
        if not isinstance(value, str):
            continue
        if not is_template(value):
            issues.append(
                Issue(
                    path,
                    f"{value!r} is text, not a list; write a list ({name}: [{value}]) or a"
                    " template giving one (${podium.range(0, 10)}, ${params.days})",
                )
            )
        else:
            try:
                template = compile_template(value)
            except ExpressionError:
                continue  # reported with the workflow's other expressions
            if template.references:
                continue  # read when the step starts, and checked then
            try:  # it reads nothing: it gives the same value every run
                given = template.render({})
            except ExpressionError as exc:
                issues.append(Issue(path, exc.message))
                continue
            if not isinstance(given, list):
                issues.append(
                    Issue(
                        path,
                        f"{value!r} gives {type_label(given)}, not a list; write a"
                        " template giving a list (${podium.range(0, 10)}, ${params.days})",
                    )
                )
    if issues or any(isinstance(v, str) for v in step.over.values()):
        return issues  # a template's size: checked when the step starts
    try:
        Space.of(step.over, step.mode.value)
    except LoopError as exc:
        return [Issue(f"{where}.over", str(exc))]
    return []


def _while_expressions(step: WhileStep, where: str, defn: WorkflowDefinition) -> list[Issue]:
    """A while's state, condition and update compile, and read only what they may,
    checked like a payload (templates anywhere inside state and update): the
    workflow's params, the fields of run, the declared state fields, the iteration's
    fields and, in the update, the outputs of the iteration's steps (all ended)."""
    from podium.core.dsl.expressions import check_expression, check_templates, known_names

    issues: list[Issue] = []
    known = known_names(defn, [s.id for s in step.steps], _scope_fields(defn, step))
    check_expression(f"{where}.condition", step.condition, CONDITION_ROOTS, known, issues)
    check_templates(f"{where}.state", step.state, STATE_ROOTS, known, issues)
    check_templates(f"{where}.update", step.update, UPDATE_ROOTS, known, issues)
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
