"""The expressions inside a definition: compiled once, references checked at push time.

Three places hold expressions: a param default (a ``${...}`` template, evaluated at run
start in dependency order), an edge's ``when`` (a CEL expression, evaluated when its
source step ends) and a lambda step's ``payload`` (templates anywhere in it, rendered
when the step starts). A reference to an unknown param, an unknown step, or a step that
is not upstream is an error here, with its position, not a run failure later.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from podium.core.dsl.conditions import condition_problem, shape_problem, template_problem
from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean
from podium.core.dsl.graph_checks import find_cycle
from podium.core.dsl.models import Fields, ForeachStep, LambdaStep, WorkflowDefinition
from podium.core.engine.text_fields import utf8_json
from podium.core.expr import (
    CompiledExpression,
    CompiledTemplate,
    EvaluationError,
    ExpressionError,
    LimitExceededError,
    compile_expression,
    compile_template,
)

PARAM_ROOTS = frozenset({"params", "run"})
STEP_ROOTS = frozenset({"params", "steps", "run"})
# A step that waits for signals also reads the ones it matched: signal.<name>.params/.payload
SIGNAL_FIELDS = ("params", "payload")
TRIGGER_ROOTS = frozenset({"event"})  # a trigger's params read the event that fired it
VALIDATE_ROOTS = frozenset({"value", "params"})  # a param's validate: its value, the others
# The fields of `run` (service.bindings.run_binding builds it).
RUN_FIELDS = ("id", "workflow", "version", "start_time", "logical_date", "trigger")


MAX_PAYLOAD_BYTES = 256 * 1024
MAX_LOOP_VALUES_BYTES = 16 * 1024 * 1024
"""Bytes of a foreach's rendered loop params (100,000 iterations fit; stored once)."""
"""Bytes of a lambda step's payload once its templates are rendered (JSON)."""

# id(definition) -> (a weak reference to it, its compiled expressions)
_COMPILED: dict[tuple[int, bool], tuple[weakref.ref[WorkflowDefinition], WorkflowExpressions]] = {}


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
    step_params: Mapping[str, Payload] = field(default_factory=dict)  # rendered at start
    # A step's ``emit`` list rendered once it succeeded (it may read its own output).
    emits: Mapping[str, Payload] = field(default_factory=dict)
    # A trigger's params (by trigger id), rendered over ``event`` when it fires.
    trigger_params: Mapping[str, Payload] = field(default_factory=dict)
    iterables: Mapping[str, Payload] = field(default_factory=dict)  # a foreach's `over`
    outputs: Payload | None = None  # the workflow's `outputs`, rendered when a run succeeds

    @classmethod
    def of(cls, defn: WorkflowDefinition, *, stored: bool = False) -> WorkflowExpressions:
        """Compile and check everything; raises DefinitionError listing every issue.

        ``stored``: a version read back (core.dsl.stored): its references (names,
        fields, upstream steps) are not judged again, its expressions must compile.
        The result is remembered for the definition object, so validating a definition
        and then compiling it for a run does the work once.
        """
        key = (id(defn), stored)
        cached = _COMPILED.get(key)
        if cached is not None and cached[0]() is defn:
            return cached[1]
        result = cls._build(defn, stored)
        _COMPILED[key] = (weakref.ref(defn, lambda _: _COMPILED.pop(key, None)), result)
        return result

    @classmethod
    def _build(cls, defn: WorkflowDefinition, stored: bool = False) -> WorkflowExpressions:
        issues: list[Issue] = []
        known = _Known(defn, references_checked=not stored)
        params = _param_templates(defn, known, issues)
        order = _param_order(defn, params, issues)
        upstream = _Upstream(defn)
        conditions: dict[tuple[str, str], CompiledExpression] = {}
        condition_steps: dict[tuple[str, str], frozenset[str]] = {}
        payloads: dict[str, Payload] = {}
        step_params: dict[str, Payload] = {}
        emits: dict[str, Payload] = {}
        iterables: dict[str, Payload] = {}
        base_roots = STEP_ROOTS | defn.scope_roots
        for i, step in enumerate(defn.steps):
            visible = upstream.view(step.id)
            waits = frozenset(w.signal for w in step.wait_for)
            step_roots = base_roots | {"signal"} if waits else base_roots
            for j, edge in enumerate(step.edges):
                if edge.when is None:
                    continue
                path = f"steps[{i}].depends_on[{j}].when"
                template = None if stored else template_problem(edge.when)
                if template is not None:
                    issues.append(Issue(path, template))
                    continue
                try:
                    ce = compile_expression(edge.when)
                except ExpressionError as exc:
                    issues.append(_expr_issue(path, exc))
                    continue
                shape = None if stored else shape_problem(ce)
                if shape is not None:
                    issues.append(Issue(path, shape))
                    continue
                _constants(path, ce, known, issues)
                read = _check_refs(
                    path, edge.when, ce.references, base_roots, known, visible, issues
                )
                conditions[(step.id, edge.step)] = ce
                condition_steps[(step.id, edge.step)] = read
            if isinstance(step, LambdaStep) and step.payload:
                payload = _payload(
                    f"steps[{i}].payload",
                    step.payload,
                    known,
                    visible,
                    issues,
                    step_roots,
                    signals=waits,
                    named="payload",
                )
                if payload is not None:
                    payloads[step.id] = payload
            templated = getattr(step, "templated", None)  # a request rendered at start
            if templated:
                request = _payload(
                    f"steps[{i}]", templated, known, visible, issues, step_roots, signals=waits
                )
                if request is not None:
                    payloads[step.id] = request
            if isinstance(step, ForeachStep):
                over = _payload(
                    f"steps[{i}].over",
                    step.over,
                    known,
                    visible,
                    issues,
                    base_roots,
                    MAX_LOOP_VALUES_BYTES,
                )
                iterables[step.id] = over or _literal(step.over)
            if step.params:
                for name in step.param_types:
                    if is_template(name) and not stored:  # its type is for its name
                        issues.append(
                            Issue(
                                f"steps[{i}].params.{name}",
                                "a param declared with a type needs a plain name, not a"
                                " template: its type is checked against that name",
                            )
                        )
                values = step.param_values
                rendered = _payload(
                    f"steps[{i}].params",
                    values,
                    known,
                    visible,
                    issues,
                    step_roots,
                    signals=waits,
                    named="params",
                )
                step_params[step.id] = rendered or _literal(values)
            if step.emit:
                spec = [e.model_dump() for e in step.emit]
                itself = _with_self(step.id, visible)
                rendered = _payload(
                    f"steps[{i}].emit", spec, known, itself, issues, step_roots, signals=waits
                )
                emits[step.id] = rendered or _literal_list(spec)
        _param_validations(defn, known, issues)
        triggers = _trigger_params(defn, known, issues)
        outputs = None
        if defn.outputs:  # every step has ended when a run succeeds: all are readable
            rendered = _payload("outputs", defn.outputs, known, _everything, issues, base_roots)
            outputs = rendered or _literal(defn.outputs)
        issues = _settle(issues, upstream)
        if issues:
            raise DefinitionError(issues)
        return cls(
            order,
            params,
            conditions,
            condition_steps,
            payloads,
            step_params,
            iterables=iterables,
            outputs=outputs,
            emits=emits,
            trigger_params=triggers,
        )

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


def _constants(
    path: str, compiled: CompiledExpression | CompiledTemplate, known: _Known, issues: list[Issue]
) -> None:
    """A constant argument that fails whenever evaluated (``'Europe/Pari'``, ``'%k'``):
    refused at push, as a constant regex or timestamp is; a stored version, pushed
    before this rule, runs as it did (core.dsl.stored)."""
    if compiled.problems and known.references_checked:
        issues.append(_expr_issue(path, compiled.problems[0]))


def _expr_issue(path: str, exc: ExpressionError) -> Issue:
    where = f" at column {exc.column}" if exc.column is not None and exc.line == 1 else ""
    if exc.line is not None and exc.line > 1:
        where = f" at line {exc.line}, column {exc.column}"
    excerpt = ""
    if exc.source is not None and exc.position is not None:
        # Lines as the error counts them (core.expr.errors.line_and_column: "\n" only),
        # not splitlines(), which also breaks at \r, \x0c, \u2028...
        line_text = exc.source.split("\n")[(exc.line or 1) - 1]
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


class _Known:
    """The names a definition declares, built once per validation (not once per reference):
    its params, its steps (or ``steps``: a while's update reads its body's) and the known
    fields of a loop body's names (``fields``, by default the definition's scope)."""

    def __init__(
        self,
        defn: WorkflowDefinition,
        steps: Iterable[str] | None = None,
        fields: Fields | None = None,
        *,
        references_checked: bool = True,
    ) -> None:
        # False for a stored version: its references passed the checks of its release.
        self.references_checked = references_checked
        self.params = defn.params
        ids = (s.id for s in defn.steps) if steps is None else steps
        self.step_ids = {sid: i for i, sid in enumerate(ids)}
        self.fields = defn.scope_fields if fields is None else fields
        self._defn = defn
        self._in_loops: dict[str, tuple[str, ...]] | None = None

    def checked(self) -> _Known:
        """This scope with the push checks on: what a stored version's map key is judged
        by (one pushed before keys were rendered was sent as written)."""
        twin = copy.copy(self)
        twin.references_checked = True
        return twin

    def loops_around(self, step: str) -> tuple[str, ...]:
        """The ids of the loops whose bodies hold ``step``, outermost first (the first is
        a step of this definition); () when no body has it. Walked once, and only for
        an unknown step: it costs a walk of every body."""
        if self._in_loops is None:
            found: dict[str, tuple[str, ...]] = {}
            stack: list[tuple[Any, tuple[str, ...]]] = [(s, ()) for s in self._defn.steps]
            while stack:
                item, around = stack.pop()
                if around:
                    found.setdefault(item.id, around)
                for inner in getattr(item, "steps", None) or ():
                    stack.append((inner, (*around, item.id)))
            self._in_loops = found
        return self._in_loops.get(step, ())

    def loop_step(self, step: str) -> Any:
        """A step of this definition, by id (None when it has none)."""
        return next((s for s in self._defn.steps if s.id == step), None)

    def with_fields(self, fields: Fields) -> _Known:
        """The same names, with ``fields`` known of the roots they name (a signal
        trigger's ``event``), without building the step ids again."""
        scoped = copy.copy(self)
        scoped.fields = fields
        return scoped


class _Upstream:
    """Which steps are upstream of which, without storing every ancestor set.

    A 100,000-step chain has 5 billion ancestor pairs. Instead, each step gets its index
    in a topological order (an ancestor always has a smaller one). A query for a nearby
    target (at most NEAR apart in that order) searches backwards from the step, never
    entering a step whose index is below the target's, so it visits at most NEAR steps.
    Queries for far targets are answered together after every expression was read: one
    pass over the steps in topological order per chunk of up to CHUNK distinct targets,
    carrying for each step a bitset (a Python int) of the chunk's targets above it. Only
    expressions that read ``steps.*`` ask, so a definition without them costs one pass.
    """

    NEAR = 256
    CHUNK = 2048

    def __init__(self, defn: WorkflowDefinition) -> None:
        self._preds = {s.id: s.dependency_ids for s in defn.steps}
        self._order: dict[str, int] | None = None
        self._pending: list[tuple[str, str]] = []  # far queries: (target, step)

    def _topo(self) -> dict[str, int]:
        if self._order is None:
            preds = self._preds
            waiting = {sid: len(ps) for sid, ps in preds.items()}
            succs: dict[str, list[str]] = {sid: [] for sid in preds}
            for sid, ps in preds.items():
                for p in ps:
                    succs[p].append(sid)
            ready = [sid for sid, n in waiting.items() if n == 0]
            order: dict[str, int] = {}
            while ready:
                sid = ready.pop()
                order[sid] = len(order)
                for nxt in succs[sid]:
                    waiting[nxt] -= 1
                    if waiting[nxt] == 0:
                        ready.append(nxt)
            self._order = order
        return self._order

    def is_upstream(self, target: str, step: str) -> bool | None:
        """True or False, or None when the answer comes from `resolve` (a far target)."""
        preds = self._preds
        direct = preds.get(step, ())
        if target in direct:
            return True
        if not direct:
            return False
        order = self._topo()
        floor = order.get(target)
        at = order.get(step, -1)
        if floor is None or at <= floor:
            return False
        if at - floor > self.NEAR:
            self._pending.append((target, step))
            return None
        seen = {step}
        stack = [step]
        while stack:
            for p in preds[stack.pop()]:
                if p == target:
                    return True
                if p not in seen and order.get(p, -1) > floor:
                    seen.add(p)
                    stack.append(p)
        return False

    def resolve(self) -> set[tuple[str, str]]:
        """The deferred (target, step) queries whose target is NOT upstream of the step."""
        if not self._pending:
            return set()
        order = self._topo()
        ranked = sorted(order, key=order.__getitem__)
        targets = sorted({t for t, _ in self._pending}, key=order.__getitem__)
        preds = self._preds
        missing: set[tuple[str, str]] = set()
        for start in range(0, len(targets), self.CHUNK):
            chunk = targets[start : start + self.CHUNK]
            bit = {t: 1 << i for i, t in enumerate(chunk)}
            first = order[chunk[0]]
            above: dict[str, int] = {}
            for sid in ranked[first:]:
                mask = 0
                for p in preds[sid]:
                    mask |= above.get(p, 0) | bit.get(p, 0)
                if mask:
                    above[sid] = mask
            for target, step in self._pending:
                b = bit.get(target)
                if b is not None and not above.get(step, 0) & b:
                    missing.add((target, step))
        return missing

    def view(self, step: str) -> _View:
        return _View(self, step)


@dataclass(frozen=True)
class _View:
    """``upstream(target)`` for one step."""

    upstream: _Upstream
    step: str

    def __call__(self, target: str) -> bool | None:
        return self.upstream.is_upstream(target, self.step)


@dataclass(frozen=True)
class _Deferred(Issue):
    """An issue that holds only if ``target`` turns out not to be upstream of ``step``."""

    target: str = ""
    step: str = ""


def _settle(issues: list[Issue], upstream: _Upstream) -> list[Issue]:
    """Keep the deferred issues whose far target is not upstream, in their places."""
    missing = upstream.resolve()
    out: list[Issue] = []
    for issue in issues:
        if isinstance(issue, _Deferred):
            if (issue.target, issue.step) in missing:
                out.append(Issue(issue.path, issue.message))
        else:
            out.append(issue)
    return out


def _check_refs(
    path: str,
    source: str,
    references: frozenset[str],
    roots: frozenset[str],
    known: _Known,
    upstream: Callable[[str], bool | None],
    issues: list[Issue],
    signals: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """Issues for bad references; returns the step ids read."""
    if not known.references_checked:
        issues = []  # found, and let go (a stored version: core.dsl.stored)
    steps_read: set[str] = set()
    step_ids = known.step_ids
    for ref in sorted(references):
        parts = ref.split(".")
        root = parts[0]
        at = _locate(source, ref)
        if root not in roots:
            allowed = ", ".join(sorted(roots))
            issues.append(
                Issue(path, f"unknown name '{root}'{at}{did_you_mean(root, roots)}; use {allowed}")
            )
        elif root == "params" and len(parts) > 1 and parts[1] not in known.params:
            issues.append(
                Issue(
                    path,
                    f"unknown param '{parts[1]}'{at}{did_you_mean(parts[1], known.params)}",
                )
            )
        elif root == "run" and len(parts) > 1 and parts[1] not in RUN_FIELDS:
            issues.append(
                Issue(
                    path,
                    f"run has no field '{parts[1]}'{at}{did_you_mean(parts[1], RUN_FIELDS)};"
                    f" the fields of run are {', '.join(RUN_FIELDS)}",
                )
            )
        elif len(parts) > 1 and (unknown := _unknown_field(parts, known.fields.get(root))):
            where, name, names = unknown
            listed = ", ".join(sorted(names)) or "none"
            issues.append(
                Issue(
                    path,
                    f"{where} has no field '{name}'{at}{did_you_mean(name, names)};"
                    f" its fields are: {listed}{_FIELD_HINTS.get(where, '')}",
                )
            )
        elif root == "signal" and len(parts) > 1 and parts[1] not in signals:
            issues.append(
                Issue(
                    path,
                    f"signal '{parts[1]}'{at} is not one this step waits for"
                    f"{did_you_mean(parts[1], signals)}; add it to wait_for",
                )
            )
        elif root == "signal" and len(parts) > 2 and parts[2] not in SIGNAL_FIELDS:
            issues.append(
                Issue(
                    path,
                    f"signal.{parts[1]}.{parts[2]}{at} does not exist; use"
                    f" signal.{parts[1]}.params or signal.{parts[1]}.payload",
                )
            )
        elif root == "steps" and len(parts) > 1:
            sid = parts[1]
            if sid not in step_ids:
                issues.append(Issue(path, _unknown_step(sid, at, known)))
            elif (answer := upstream(sid)) is not True:
                message = (
                    f"step '{sid}'{at} is not upstream of this step, so its output may not"
                    " exist yet; add it to depends_on (directly or through another step)"
                )
                if answer is None:  # decided with the other far queries, in `_settle`
                    step = upstream.step if isinstance(upstream, _View | _SelfOrUpstream) else ""
                    issues.append(_Deferred(path, message, sid, step))
                    steps_read.add(sid)
                else:
                    issues.append(Issue(path, message))
            elif len(parts) > 2 and parts[2] not in ("output", "params"):
                issues.append(
                    Issue(
                        path,
                        f"steps.{sid}.{parts[2]}{at} does not exist; use steps.{sid}.output"
                        f" or steps.{sid}.params",
                    )
                )
            else:
                steps_read.add(sid)
    return frozenset(steps_read)


def _unknown_step(sid: str, at: str, known: _Known) -> str:
    """A step id the definition does not have; one inside a loop's body is read through
    the loop's output (docs/workflow-language.md, "foreach" and "while")."""
    loops = known.loops_around(sid)
    if not loops:
        return f"unknown step '{sid}'{at}{did_you_mean(sid, known.step_ids)}"
    outer = loops[0]
    kind = getattr(known.loop_step(outer), "type", "")
    if len(loops) == 1 and kind == "foreach":
        return (
            f"'{sid}'{at} is a step of the foreach '{outer}', so it has an output per"
            f" iteration: read them as steps.{outer}.output.outputs.{sid} (a list, one"
            " entry per iteration, in index order)"
        )
    if len(loops) == 1 and kind == "while":
        return (
            f"'{sid}'{at} is a step of the while '{outer}': its output is read inside the"
            f" loop (the while's update); after it, read steps.{outer}.output.state (the"
            " final state)"
        )
    inside = " in ".join(f"'{loop}'" for loop in reversed(loops))
    return (
        f"'{sid}'{at} is a step inside the loop {inside}: after the loop, read its output"
        f" through steps.{outer}.output"
    )


# A field that is missing from a while's state is one to declare there.
_FIELD_HINTS = {
    "state": "; declare it in the while's state",
    "iteration.state": "; declare it in the while's state",
    "event.signals": "; a signal trigger's event holds the signals in its names",
}


def _unknown_field(parts: list[str], fields: Fields | None) -> tuple[str, str, Fields] | None:
    """Where a path leaves what is known to exist: (the dotted prefix, its missing
    field, the fields it has); None when the path may exist."""
    for n, part in enumerate(parts[1:], 1):
        if fields is None:  # anything may be inside (a loop value), or nothing is known
            return None
        if part not in fields:
            return ".".join(parts[:n]), part, fields
        fields = fields[part]
    return None


def _literal(values: dict[str, Any]) -> Payload:
    """Params without templates: a copy of the values, reading nothing."""

    def render(_bindings: Mapping[str, Any]) -> Any:
        return dict(values)

    return Payload(render, frozenset())


def _nothing_upstream(step: str) -> bool | None:
    return False


def _param_validations(defn: WorkflowDefinition, known: _Known, issues: list[Issue]) -> None:
    """A param's ``validate`` reads ``value`` and ``params`` (models.ParamValidation
    checks the roots): a param that is not declared would refuse every run at its
    start ("validate could not be evaluated"), so it is refused here, at push."""
    for name, spec in defn.params.items():
        rule = spec.validate_
        if rule is None:
            continue
        compiled = compile_expression(rule.expr)  # compiled by the model already
        path = f"params.{name}.validate"
        _check_refs(
            path, rule.expr, compiled.references, VALIDATE_ROOTS, known, _nothing_upstream, issues
        )


def _signal_event_fields(names: Iterable[str]) -> Fields:
    """What a signal trigger's ``event`` holds (service/signal_triggers._signal_event):
    its kind, its trigger's id, and one entry per name it joins."""
    signal: Fields = {"params": None, "payload": None, "signal_id": None}
    names = list(names)
    # A name holding a dot (sales.ready) splits in a dotted reference: not checked then.
    signals = None if any("." in n for n in names) else dict.fromkeys(names, signal)
    return {"event": {"kind": None, "trigger": None, "signals": signals}}


def _trigger_params(
    defn: WorkflowDefinition, known: _Known, issues: list[Issue]
) -> dict[str, Payload]:
    out: dict[str, Payload] = {}
    for (tid, trigger), i in zip(defn.trigger_map.items(), range(len(defn.triggers)), strict=True):
        scope = known
        if trigger.signal is not None:
            # A signal trigger's event holds the signals of its names only: a condition
            # reading another (or params, which it cannot see) fails on every set, and
            # the trigger silently never starts a run.
            scope = known.with_fields(_signal_event_fields(trigger.signal.names))
            condition = trigger.signal.condition
            if condition is not None:
                _check_refs(
                    f"triggers[{i}].signal.condition",
                    condition,
                    compile_expression(condition).references,  # compiled by the model
                    TRIGGER_ROOTS,
                    scope,
                    _nothing_upstream,
                    issues,
                )
        path = f"triggers[{i}].params"
        for name in trigger.params:
            if name not in known.params:
                issues.append(
                    Issue(
                        f"{path}.{name}",
                        f"unknown param '{name}'{did_you_mean(name, known.params)}; a trigger"
                        " sets the workflow's declared params",
                    )
                )
        rendered = _payload(path, trigger.params, scope, _nothing_upstream, issues, TRIGGER_ROOTS)
        out[tid] = rendered or _literal(dict(trigger.params))
    return out


def _literal_list(values: list[Any]) -> Payload:
    def render(_bindings: Mapping[str, Any]) -> Any:
        return [dict(v) for v in values]

    return Payload(render, frozenset())


@dataclass(frozen=True)
class _SelfOrUpstream:
    """What an ``emit`` may read: the step itself (its output) and its upstream."""

    step: str
    view: _View

    def __call__(self, target: str) -> bool | None:
        return True if target == self.step else self.view(target)


def _with_self(step: str, view: _View) -> _SelfOrUpstream:
    return _SelfOrUpstream(step, view)


def _everything(step: str) -> bool | None:
    return True


def _param_templates(
    defn: WorkflowDefinition, known: _Known, issues: list[Issue]
) -> dict[str, CompiledTemplate]:
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
        _constants(path, tpl, known, issues)
        _check_refs(
            path, spec.default, tpl.references, PARAM_ROOTS, known, _nothing_upstream, issues
        )
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


Render = Callable[[Mapping[str, Any]], Any]
KeyRender = Callable[[Mapping[str, Any]], str]


def _tree(
    value: Any,
    where: str,
    template: Callable[[str, str], Render],
    key: Callable[[str, str], KeyRender] | None = None,
    place: Callable[[str], str] = str,
) -> Render:
    """One render function for a value with templates anywhere in its maps and lists;
    ``template`` compiles each (``where`` is its path, for messages). A map key with a
    template is rendered too, as text, by what ``key`` compiles (it was sent as
    written, ``${params.region}`` and all); two keys that render the same are an error
    naming the map (``place`` gives its name where it is rendered)."""
    if isinstance(value, dict):
        parts = {k: _tree(v, f"{where}.{k}", template, key, place) for k, v in value.items()}
        keyed = [k for k in value if is_template(k)] if key is not None else []
        if not keyed:
            return lambda b: {k: f(b) for k, f in parts.items()}
        assert key is not None
        keys = {k: key(k, f"{where}.{k}") for k in keyed}
        return _keyed_map(parts, keys, place(where))
    if isinstance(value, list):
        items = [_tree(v, f"{where}[{n}]", template, key, place) for n, v in enumerate(value)]
        return lambda b: [f(b) for f in items]
    if is_template(value):
        return template(value, where)
    return lambda b: value


def _keyed_map(parts: dict[str, Render], keys: dict[str, KeyRender], where: str) -> Render:
    """A map some of whose keys are templates: each rendered key must be new in it."""

    def render(bindings: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        written: dict[str, str] = {}  # rendered key -> the key as written
        for raw, f in parts.items():
            k = keys[raw](bindings) if raw in keys else raw
            if k in written:
                raise EvaluationError(
                    f"{where or 'the value'}: the keys {written[k]!r} and {raw!r} both give"
                    f" {k!r}; a map key must be given once"
                )
            written[k] = raw
            out[k] = f(bindings)
        return out

    return render


def _named(render: Render, place: str) -> Render:
    """``render``, whose failures say ``place`` first (the same error type: a limit is
    still a limit)."""

    def rendered(bindings: Mapping[str, Any]) -> Any:
        try:
            return render(bindings)
        except ExpressionError as exc:
            raise type(exc)(
                f"{place}: {exc.message}", exc.position, exc.line, exc.column, exc.source
            ) from None

    return rendered


def compile_value(value: Any) -> Payload:
    """A value with templates anywhere inside (a while's state or update), compiled
    without the push checks, which it passed, and without a size bound (a loop state
    may be big: it is then stored as a payload). Raises ExpressionError."""
    steps_read: set[str] = set()

    def compiled(val: str) -> CompiledTemplate:
        tpl = compile_template(val)
        for ref in tpl.references:
            parts = ref.split(".")
            if parts[0] == "steps" and len(parts) > 1:
                steps_read.add(parts[1])
        return tpl

    def template(val: str, where: str) -> Render:
        return compiled(val).render

    def key(val: str, where: str) -> KeyRender:
        try:
            return compiled(val).render_text
        except ExpressionError:  # pushed before keys were checked: sent as written then
            return lambda b: val

    return Payload(_tree(value, "", template, key), frozenset(steps_read))


def known_names(
    defn: WorkflowDefinition, steps: Iterable[str] | None = None, fields: Fields | None = None
) -> _Known:
    """What a loop step's own expressions may name: the workflow's params, and ``steps``
    (a while's body: its update reads them) and the ``fields`` of its state and
    iteration instead of the workflow's own."""
    return _Known(defn, steps, fields)


def check_templates(
    path: str, value: Any, roots: frozenset[str], known: _Known, issues: list[Issue]
) -> None:
    """Issues of the templates anywhere in ``value`` (a while's state or update), which
    read ``roots``; the steps ``known`` names have all ended when it is rendered."""
    _payload(path, value, known, _everything, issues, roots)


def check_expression(
    path: str, source: str, roots: frozenset[str], known: _Known, issues: list[Issue]
) -> None:
    """Issues of an expression (a while's condition) that reads ``roots``."""
    shape = condition_problem(source)  # a push check: loop bodies are checked at push
    if shape is not None:
        issues.append(Issue(path, shape))
        return
    try:
        compiled = compile_expression(source)
    except ExpressionError as exc:
        issues.append(_expr_issue(path, exc))
        return
    _check_refs(path, source, compiled.references, roots, known, _everything, issues)


def _payload(
    path: str,
    value: Any,
    known: _Known,
    upstream: Callable[[str], bool | None],
    issues: list[Issue],
    roots: frozenset[str] = STEP_ROOTS,
    limit: int = MAX_PAYLOAD_BYTES,
    signals: frozenset[str] = frozenset(),
    named: str | None = None,
) -> Payload | None:
    """Compile the templates inside a payload into one render function, or None.

    ``named``: what the value is called where it is rendered (``params``, ``payload``):
    a template that fails there names its place (``params.rows_in: no such key``), as
    a step with several params or payload fields otherwise leaves the user guessing."""
    steps_read: set[str] = set()
    found = False

    def template(val: str, where: str) -> Render:
        nonlocal found
        try:
            tpl = compile_template(val)
        except ExpressionError as exc:
            issues.append(_expr_issue(where, exc))
            return lambda b: None
        found = True
        _constants(where, tpl, known, issues)
        steps_read.update(
            _check_refs(where, val, tpl.references, roots, known, upstream, issues, signals)
        )
        if named is None:
            return tpl.render
        return _named(tpl.render, place(where))

    def key(val: str, where: str) -> KeyRender:
        nonlocal found
        try:
            tpl = compile_template(val)
        except ExpressionError as exc:
            if not known.references_checked:  # a stored version pushed before keys were
                return lambda b: val  # rendered: sent as written, as it was then
            issues.append(_expr_issue(where, exc))
            return lambda b: val
        if not known.references_checked:
            refused: list[Issue] = []
            checked = known.checked()
            _check_refs(where, val, tpl.references, roots, checked, upstream, refused, signals)
            if refused:  # a stored version pushed before keys were rendered, whose key
                return lambda b: val  # reads what is not there: sent as written, as then
        found = True
        _constants(where, tpl, known, issues)
        steps_read.update(
            _check_refs(where, val, tpl.references, roots, known, upstream, issues, signals)
        )
        render: KeyRender = tpl.render_text
        return render if named is None else _named(render, place(where))

    def place(where: str) -> str:
        """A path as named where the value is rendered (``payload.x``), else as pushed."""
        return where if named is None else named + where[len(path) :]

    render = _tree(value, path, template, key, place)

    def bounded(bindings: Mapping[str, Any]) -> Any:
        rendered = render(bindings)
        size = len(utf8_json(rendered, default=str))  # as written: UTF-8, not \u escapes
        if size > limit:
            raise LimitExceededError(
                f"the rendered payload is {size:,} bytes, over the limit of"
                f" {limit:,}; pass a reference (an S3 key) instead of the data"
            )
        return rendered

    return Payload(bounded, frozenset(steps_read)) if found else None
