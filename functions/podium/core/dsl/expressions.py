"""The expressions inside a definition: compiled once, references checked at push time.

Three places hold expressions: a param default (a ``${...}`` template, evaluated at run
start in dependency order), an edge's ``when`` (a CEL expression, evaluated when its
source step ends) and a lambda step's ``payload`` (templates anywhere in it, rendered
when the step starts). A reference to an unknown param, an unknown step, or a step that
is not upstream is an error here, with its position, not a run failure later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean
from podium.core.dsl.graph_checks import find_cycle
from podium.core.dsl.models import LambdaStep, WorkflowDefinition
from podium.core.expr import (
    CompiledExpression,
    CompiledTemplate,
    ExpressionError,
    compile_expression,
    compile_template,
)

PARAM_ROOTS = frozenset({"params", "run"})
STEP_ROOTS = frozenset({"params", "steps", "run"})


def is_template(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


@dataclass(frozen=True)
class Payload:
    """A payload with templates inside: rendered with the bindings when the step starts."""

    render: Callable[[Mapping[str, Any]], Any]
    steps_read: frozenset[str]  # step ids whose outputs the templates read


@dataclass(frozen=True)
class WorkflowExpressions:
    param_order: tuple[str, ...]  # params in dependency order
    param_templates: Mapping[str, CompiledTemplate]
    conditions: Mapping[tuple[str, str], CompiledExpression]  # (step, predecessor) -> when
    condition_steps: Mapping[tuple[str, str], frozenset[str]]  # ... steps it reads
    payloads: Mapping[str, Payload] = field(default_factory=dict)

    @classmethod
    def of(cls, defn: WorkflowDefinition) -> WorkflowExpressions:
        """Compile and check everything; raises DefinitionError listing every issue."""
        issues: list[Issue] = []
        params = _param_templates(defn, issues)
        order = _param_order(defn, params, issues)
        ancestors = _ancestors(defn)
        conditions: dict[tuple[str, str], CompiledExpression] = {}
        condition_steps: dict[tuple[str, str], frozenset[str]] = {}
        payloads: dict[str, Payload] = {}
        for i, step in enumerate(defn.steps):
            visible = ancestors.get(step.id, frozenset())
            for j, edge in enumerate(step.edges):
                if edge.when is None:
                    continue
                path = f"steps[{i}].depends_on[{j}].when"
                try:
                    ce = compile_expression(edge.when)
                except ExpressionError as exc:
                    issues.append(_expr_issue(path, exc))
                    continue
                read = _check_refs(
                    path, edge.when, ce.references, STEP_ROOTS, defn, visible, issues
                )
                conditions[(step.id, edge.step)] = ce
                condition_steps[(step.id, edge.step)] = read
            if isinstance(step, LambdaStep):
                payload = _payload(f"steps[{i}].payload", step.payload, defn, visible, issues)
                if payload is not None:
                    payloads[step.id] = payload
        if issues:
            raise DefinitionError(issues)
        return cls(order, params, conditions, condition_steps, payloads)

    def evaluate_params(self, literal: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
        """Template defaults evaluated in dependency order; raises DefinitionError."""
        values = dict(literal)
        for name in self.param_order:
            template = self.param_templates.get(name)
            if template is None or name in literal:
                continue
            try:
                values[name] = template.render({"params": values, "run": run})
            except ExpressionError as exc:
                raise DefinitionError([_expr_issue(f"params.{name}.default", exc)]) from None
        return values


def _expr_issue(path: str, exc: ExpressionError) -> Issue:
    where = f" at column {exc.column}" if exc.column is not None and exc.line == 1 else ""
    if exc.line is not None and exc.line > 1:
        where = f" at line {exc.line}, column {exc.column}"
    excerpt = ""
    if exc.source is not None and exc.position is not None:
        line_text = exc.source.splitlines()[(exc.line or 1) - 1] if exc.source else ""
        excerpt = f": {line_text!r}"
    return Issue(path, f"{exc.message}{where}{excerpt}")


def _locate(source: str, ref: str) -> str:
    """Where a reference is written, for the message (references carry no position)."""
    parts = ref.split(".")
    for probe in (".".join(parts[:3]), ".".join(parts[:2]), parts[0]):
        at = source.find(probe)
        if at >= 0:
            line = source.count("\n", 0, at) + 1
            column = at - (source.rfind("\n", 0, at) + 1) + 1
            return f" (column {column})" if line == 1 else f" (line {line}, column {column})"
    return ""


def _check_refs(
    path: str,
    source: str,
    references: frozenset[str],
    roots: frozenset[str],
    defn: WorkflowDefinition,
    upstream: frozenset[str],
    issues: list[Issue],
) -> frozenset[str]:
    """Issues for bad references; returns the step ids read."""
    steps_read: set[str] = set()
    step_ids = [s.id for s in defn.steps]
    for ref in sorted(references):
        parts = ref.split(".")
        root = parts[0]
        at = _locate(source, ref)
        if root not in roots:
            allowed = ", ".join(sorted(roots))
            issues.append(
                Issue(path, f"unknown name '{root}'{at}{did_you_mean(root, roots)}; use {allowed}")
            )
        elif root == "params" and len(parts) > 1 and parts[1] not in defn.params:
            issues.append(
                Issue(
                    path,
                    f"unknown param '{parts[1]}'{at}{did_you_mean(parts[1], defn.params)}",
                )
            )
        elif root == "steps" and len(parts) > 1:
            sid = parts[1]
            if sid not in step_ids:
                issues.append(Issue(path, f"unknown step '{sid}'{at}{did_you_mean(sid, step_ids)}"))
            elif sid not in upstream:
                issues.append(
                    Issue(
                        path,
                        f"step '{sid}'{at} is not upstream of this step, so its output may not"
                        " exist yet; add it to depends_on (directly or through another step)",
                    )
                )
            elif len(parts) > 2 and parts[2] != "output":
                issues.append(
                    Issue(
                        path,
                        f"steps.{sid}.{parts[2]}{at} does not exist; use steps.{sid}.output",
                    )
                )
            else:
                steps_read.add(sid)
    return frozenset(steps_read)


def _param_templates(defn: WorkflowDefinition, issues: list[Issue]) -> dict[str, CompiledTemplate]:
    out: dict[str, CompiledTemplate] = {}
    for name, spec in defn.params.items():
        if not is_template(spec.default):
            continue
        path = f"params.{name}.default"
        try:
            tpl = compile_template(spec.default)
        except ExpressionError as exc:
            issues.append(_expr_issue(path, exc))
            continue
        _check_refs(path, spec.default, tpl.references, PARAM_ROOTS, defn, frozenset(), issues)
        out[name] = tpl
    return out


def _param_order(
    defn: WorkflowDefinition, templates: Mapping[str, CompiledTemplate], issues: list[Issue]
) -> tuple[str, ...]:
    deps = {
        name: sorted(
            {
                ref.split(".")[1]
                for ref in tpl.references
                if ref.startswith("params.") and ref.split(".")[1] in defn.params
            }
        )
        for name, tpl in templates.items()
    }
    names = list(defn.params)
    cycle = find_cycle(names, {n: deps.get(n, []) for n in names})
    if cycle:
        issues.append(
            Issue(
                f"params.{cycle[0]}.default",
                f"params refer to each other in a cycle: {' -> '.join(cycle)}",
            )
        )
        return tuple(names)
    order: list[str] = []
    seen: set[str] = set()

    def visit(n: str) -> None:
        stack = [(n, iter(deps.get(n, [])))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                if node not in seen:
                    seen.add(node)
                    order.append(node)
            elif nxt not in seen:
                stack.append((nxt, iter(deps.get(nxt, []))))

    for n in names:
        if n not in seen:
            visit(n)
    return tuple(order)


def _ancestors(defn: WorkflowDefinition) -> dict[str, frozenset[str]]:
    """Every step upstream of each step (iteratively, in dependency order)."""
    preds = {s.id: s.dependency_ids for s in defn.steps}
    memo: dict[str, frozenset[str]] = {}
    for start in preds:
        stack = [start]
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            missing = [p for p in preds.get(node, []) if p in preds and p not in memo]
            if missing:
                stack.extend(missing)
                continue
            acc: set[str] = set()
            for p in preds.get(node, []):
                if p in preds:
                    acc.add(p)
                    acc |= memo[p]
            memo[node] = frozenset(acc)
            stack.pop()
    return memo


def _payload(
    path: str,
    value: Any,
    defn: WorkflowDefinition,
    upstream: frozenset[str],
    issues: list[Issue],
) -> Payload | None:
    """Compile the templates inside a payload into one render function, or None."""
    steps_read: set[str] = set()
    found = False

    def build(val: Any, where: str) -> Callable[[Mapping[str, Any]], Any]:
        nonlocal found
        if isinstance(val, dict):
            parts = {k: build(v, f"{where}.{k}") for k, v in val.items()}
            return lambda b: {k: f(b) for k, f in parts.items()}
        if isinstance(val, list):
            items = [build(v, f"{where}[{n}]") for n, v in enumerate(val)]
            return lambda b: [f(b) for f in items]
        if is_template(val):
            try:
                tpl = compile_template(val)
            except ExpressionError as exc:
                issues.append(_expr_issue(where, exc))
                return lambda b: None
            found = True
            steps_read.update(
                _check_refs(where, val, tpl.references, STEP_ROOTS, defn, upstream, issues)
            )
            return tpl.render
        return lambda b: val

    render = build(value, path)
    return Payload(render, frozenset(steps_read)) if found else None
