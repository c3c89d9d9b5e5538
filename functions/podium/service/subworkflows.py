"""Push-time checks of subworkflow calls: a call whose workflow is already pushed must
pass only params that workflow declares (and every param it requires). A call to a
workflow not pushed yet (or to itself) is checked when its child run starts."""

from __future__ import annotations

from typing import Any

from podium.core.dsl.errors import Issue, did_you_mean
from podium.core.dsl.models import (
    ForeachStep,
    ParamMode,
    SubworkflowStep,
    WhileStep,
    WorkflowDefinition,
)
from podium.core.engine.errors import WorkflowNotFound
from podium.service.context import Services


def call_issues(ctx: Services, defn: WorkflowDefinition) -> list[Issue]:
    issues: list[Issue] = []
    stack: list[tuple[list[Any], str]] = [(list(defn.steps), "steps")]
    while stack:
        steps, where = stack.pop()
        for i, step in enumerate(steps):
            path = f"{where}[{i}]"
            if isinstance(step, ForeachStep | WhileStep):
                stack.append((list(step.steps), f"{path}.steps"))
            elif isinstance(step, SubworkflowStep) and step.workflow != defn.name:
                issues += _check_call(ctx, step, path)
    return issues


def resolve_version(ctx: Services, workflow: str, version: int | str) -> int:
    """The version a call runs: a number as given (WorkflowNotFound if absent), the
    active one, or the latest pushed (after a rollback, newer than the active one)."""
    if isinstance(version, int):
        ctx.store.get_workflow_version(workflow, version)  # WorkflowNotFound if absent
        return version
    active = ctx.store.active_version(workflow)
    if version == "active":
        return active
    latest = active  # versions after the active one exist only after a rollback
    while True:
        try:
            ctx.store.get_workflow_version(workflow, latest + 1)
        except WorkflowNotFound:
            return latest
        latest += 1


def _check_call(ctx: Services, step: SubworkflowStep, path: str) -> list[Issue]:
    try:
        ctx.store.active_version(step.workflow)
    except WorkflowNotFound:
        return []  # not pushed yet: checked when the child run starts
    # The version the call would run today: "latest" after a rollback is not the active.
    version = step.version if isinstance(step.version, int) else None
    try:
        version = resolve_version(ctx, step.workflow, step.version)
        target = ctx.definitions.get(step.workflow, version).definition
    except WorkflowNotFound:
        return [
            Issue(
                f"{path}.version",
                f"workflow {step.workflow!r} has no version {version}: use active, or make"
                " that version first (podium push FILE to a stack, podium run FILE on the"
                " local home)",
            )
        ]
    declared = target.params
    issues = [
        Issue(
            f"{path}.params.{name}",
            f"{step.workflow!r} declares no param {name!r}{did_you_mean(name, declared)};"
            f" it declares: {', '.join(sorted(declared)) or 'no params'}",
        )
        for name in step.params
        if name not in declared
    ]
    # A constant param cannot be set by a run (core/dsl/params.py): the child would be
    # refused at its start, after the parent had already run up to this step.
    issues += [
        Issue(
            f"{path}.params.{name}",
            f"{step.workflow!r} declares {name!r} constant (mode: constant); a run cannot set"
            " it: drop it here, or change its default in that workflow",
        )
        for name in step.params
        if name in declared and declared[name].mode is ParamMode.CONSTANT
    ]
    # A param without a default must be given, unless it is optional (core/dsl/params.py).
    missing = sorted(
        name
        for name, spec in declared.items()
        if spec.default is None and not spec.optional and name not in step.params
    )
    if missing:
        issues.append(
            Issue(
                f"{path}.params",
                f"{step.workflow!r} requires {', '.join(missing)}; pass them in params",
            )
        )
    return issues
