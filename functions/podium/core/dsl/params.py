"""Typed workflow params: defaults, run-time overrides and their type checks.

The expression language plugs in at ``resolve_params``: once it exists, a default or
override that is a ``${...}`` template is evaluated (in dependency order) before the type
check below.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean
from podium.core.dsl.models import ParamMode, ParamSpec, ParamType, WorkflowDefinition
from podium.core.dsl.yaml12 import short_value
from podium.core.expr.json_values import NotJsonError, to_json_value
from podium.core.expr.shown import shown, type_label
from podium.core.text_checks import LONE_SURROGATE_FIX, find_lone_surrogate

_TYPE_HELP = {
    ParamType.STRING: "a string",
    ParamType.INT: "an integer such as 42",
    ParamType.DOUBLE: "a number such as 0.5",
    ParamType.BOOL: "true or false",
    ParamType.LIST: 'a list such as ["a", "b"]',
    ParamType.MAP: 'a map such as {"k": "v"}',
}


def check_value(spec: ParamSpec, value: Any, path: str) -> tuple[Any, Issue | None]:
    """Return the value in its canonical form, or an issue naming the fix. A run's params
    are stored and shown as JSON, however they came (a body, ``-p``, a trigger's or a
    default's template): a list or map takes the JSON form of what a template rendered in
    it (a timestamp as RFC 3339 text, as everywhere: core/expr/json_values.py), and what
    JSON cannot hold (NaN, Infinity, a lone surrogate) is refused where it is."""
    value, issue = _check_type(spec, value, path)
    if issue is not None:
        return value, issue
    if spec.type in (ParamType.LIST, ParamType.MAP):
        try:
            value = to_json_value(value, path)
        except NotJsonError as exc:
            return value, Issue(path, exc.message)
    if isinstance(value, (str, list, dict)):
        where = find_lone_surrogate(value)
        if where is not None:
            at = f"{path}.{where}" if where and not where.startswith("[") else path + where
            return value, Issue(at, LONE_SURROGATE_FIX)
    return value, None


def _check_type(spec: ParamSpec, value: Any, path: str) -> tuple[Any, Issue | None]:
    t = spec.type
    ok: bool
    if t is ParamType.STRING:
        ok = isinstance(value, str)
    elif t is ParamType.INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and not -(2**63) <= value < 2**63:
            return value, Issue(path, "integer out of int64 range")
    elif t is ParamType.DOUBLE:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:
            try:
                as_double = float(value)
            except OverflowError:  # an int past a double's range
                as_double = math.inf
            if not math.isfinite(as_double):
                return value, Issue(
                    path, "expected a finite double (NaN and Infinity are not JSON)"
                )
            value = as_double
    elif t is ParamType.BOOL:
        ok = isinstance(value, bool)
    elif t is ParamType.LIST:
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, dict)
    if ok:
        return value, None
    # The value as the definition's language writes it, cut short (Python's repr said
    # ``null None`` or ``datetime.datetime(2026, 1, 1, ..., tzinfo=...)``).
    got = "null" if value is None else f"{type_label(value)} {shown(value)}"
    fix = _as_json(t, value) or _as_text(t, value)
    return value, Issue(path, f"expected {t.value} ({_TYPE_HELP[t]}), got {got}{fix}")


def _as_text(t: ParamType, value: Any) -> str:
    """A timestamp or a duration where a string is declared: ``string()`` gives its text
    (RFC 3339, ``90s``), which is what the param wanted, most likely."""
    if t is not ParamType.STRING or type_label(value) not in ("timestamp", "duration"):
        return ""
    return "; to pass it as text, wrap the expression in string(...): ${string(...)}"


def _as_json(t: ParamType, value: Any) -> str:
    """``-p regions='[emea, amer]'``: a list written as YAML, which a list param's text is
    not read as (JSON is): the same value written as JSON, to copy."""
    if t not in (ParamType.LIST, ParamType.MAP) or not isinstance(value, str):
        return ""
    if not value.strip().startswith(("[", "{")):
        return ""
    meant = short_value(value)
    wanted = list if t is ParamType.LIST else dict
    if not isinstance(meant, wanted):
        return ""
    return f"; write it as JSON, with quoted strings: '{json.dumps(meant)}'"


def parse_cli_value(spec: ParamSpec, raw: str) -> Any:
    """Turn ``-p key=value`` text into a typed value (strings stay as typed)."""
    t = spec.type
    try:
        if t is ParamType.STRING:
            return raw
        if t is ParamType.INT:
            # ASCII digits only: int() also takes "1_000" and other scripts' digits
            return int(raw) if re.fullmatch(r"\s*-?[0-9]+\s*", raw) else raw
        if t is ParamType.DOUBLE:
            v = float(raw)
            return v if math.isfinite(v) else raw
        if t is ParamType.BOOL:
            low = raw.strip().lower()
            if low in ("true", "1", "yes"):
                return True
            if low in ("false", "0", "no"):
                return False
            return raw
        return json.loads(raw)
    except ValueError:
        return raw  # check_value reports it with the expected type


def check_defaults(defn: WorkflowDefinition) -> list[Issue]:
    issues: list[Issue] = []
    for name, spec in defn.params.items():
        # A ${...} default is type-checked once evaluated, at run start.
        if spec.default is not None and not (
            isinstance(spec.default, str) and "${" in spec.default
        ):
            _, issue = check_value(spec, spec.default, f"params.{name}.default")
            if issue:
                issues.append(issue)
    return issues


def check_trigger_params(defn: WorkflowDefinition) -> list[Issue]:
    """What each firing of a trigger would be refused for, said at push: a constant param
    it sets, a literal of the wrong type, a required param it leaves out (a template is
    checked once rendered, at the firing; an unknown name by the expressions' check)."""
    issues: list[Issue] = []
    for i, trigger in enumerate(defn.triggers):
        path = f"triggers[{i}].params"
        for name, value in trigger.params.items():
            spec = defn.params.get(name)
            if spec is None:
                continue
            if spec.mode is ParamMode.CONSTANT:
                issues.append(
                    Issue(
                        f"{path}.{name}",
                        "this param is constant (mode: constant): a trigger cannot set it;"
                        " remove it here, or change its default",
                    )
                )
            elif not _templated(value):
                _, issue = check_value(spec, value, f"{path}.{name}")
                if issue:
                    issues.append(issue)
        for name, spec in defn.params.items():
            if name in trigger.params or spec.default is not None or spec.optional:
                continue
            issues.append(
                Issue(
                    f"{path}.{name}",
                    f"required param '{name}' has no value: set it here (from the event:"
                    f' {name}: "${{event...}}") or give it a default',
                )
            )
    return issues


def _templated(value: Any) -> bool:
    """Whether a ``${...}`` is anywhere in the value (rendered at each firing)."""
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, list):
        return any(_templated(v) for v in value)
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    return False


def resolve_params(defn: WorkflowDefinition, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults merged with overrides, every value type-checked; raises DefinitionError."""
    issues: list[Issue] = []
    resolved: dict[str, Any] = {}
    for name in overrides:
        if name not in defn.params:
            issues.append(
                Issue(
                    f"params.{name}",
                    f"unknown param{did_you_mean(name, defn.params)}; "
                    f"the workflow declares: {', '.join(sorted(defn.params)) or 'no params'}",
                )
            )
    for name, spec in defn.params.items():
        if name in overrides and spec.mode is ParamMode.CONSTANT:
            issues.append(
                Issue(
                    f"params.{name}",
                    "this param is constant (mode: constant) and cannot be set by a run;"
                    " change its default in the definition instead",
                )
            )
            continue
        if name in overrides:
            value, issue = check_value(spec, overrides[name], f"params.{name}")
            if issue:
                issues.append(issue)
                continue
            resolved[name] = value
        elif isinstance(spec.default, str) and "${" in spec.default:
            continue  # evaluated at run start (dsl.expressions), then type-checked
        elif spec.default is not None:
            # Its canonical form, as a given value's (a double's default of 3 is 3.0: push
            # checks its validate on that form too); a default a version stored before
            # the push checked it keeps its raw value rather than refuse the run here.
            value, issue = check_value(spec, spec.default, f"params.{name}.default")
            resolved[name] = spec.default if issue else value
        elif spec.optional:
            resolved[name] = None
        else:
            issues.append(
                Issue(f"params.{name}", f"required param has no value; pass -p {name}=...")
            )
    if issues:
        raise DefinitionError(issues)
    return resolved


def check_evaluated(defn: WorkflowDefinition, values: Mapping[str, Any]) -> dict[str, Any]:
    """Type-check params whose defaults were expressions, once evaluated."""
    issues: list[Issue] = []
    out = dict(values)
    for name, value in values.items():
        default = defn.params[name].default
        if isinstance(default, str) and "${" in default:
            checked, issue = check_value(defn.params[name], value, f"params.{name}.default")
            if issue:
                issues.append(Issue(issue.path, f"{issue.message} (from {default!r})"))
            out[name] = checked
    if issues:
        raise DefinitionError(issues)
    return out


def check_validations(defn: WorkflowDefinition, values: Mapping[str, Any]) -> None:
    """Every param's ``validate`` must hold for its final value; raises DefinitionError
    listing each one that does not, with its message."""
    issues: list[Issue] = []
    for name, spec in defn.params.items():
        if spec.validate_ is not None and name in values:
            why = _validation_failure(spec, values[name], values)
            if why is not None:
                issues.append(Issue(f"params.{name}", why))
    if issues:
        raise DefinitionError(issues)


def check_default_validations(defn: WorkflowDefinition) -> list[Issue]:
    """A literal default its own ``validate`` refuses: every run that does not set the
    param is refused at its start, and a constant param no run may set, so no run of
    the workflow can start. Said at push (a push rule: a stored version loads).

    Only a rule whose answer is known at push is evaluated: one that reads ``value``
    and constant params with literal defaults (a run may set any other)."""
    from podium.core.expr import ExpressionError, compile_expression

    literal: dict[str, Any] = {}
    for name, spec in defn.params.items():
        if spec.default is None or (isinstance(spec.default, str) and "${" in spec.default):
            continue
        value, issue = check_value(spec, spec.default, f"params.{name}.default")
        if issue is None:  # else check_defaults says it
            literal[name] = value
    fixed = {n for n in literal if defn.params[n].mode is ParamMode.CONSTANT}
    issues: list[Issue] = []
    for name, spec in defn.params.items():
        if spec.validate_ is None or name not in literal:
            continue
        known = fixed | {name}
        try:
            reads = compile_expression(spec.validate_.expr).references
        except ExpressionError:  # said by the expressions' check
            continue
        if not all(_known_at_push(ref, known) for ref in reads):
            continue
        values = {n: literal[n] for n in known}
        why = _validation_failure(spec, literal[name], values)
        if why is None:
            continue
        then = (
            "no run can start (a constant param cannot be set by a run)"
            if spec.mode is ParamMode.CONSTANT
            else "every run that does not set it would be refused"
        )
        issues.append(
            Issue(f"params.{name}.default", f"{why}; {then}: change the default or the validate")
        )
    return issues


def _known_at_push(ref: str, known: set[str]) -> bool:
    """Whether a validate's reference (``value``, ``params.env``) reads only values
    known at push: the value itself, or one of the ``known`` params."""
    if ref == "value" or ref.startswith("value."):
        return True
    return any(ref == f"params.{n}" or ref.startswith(f"params.{n}.") for n in known)


def _validation_failure(spec: ParamSpec, value: Any, values: Mapping[str, Any]) -> str | None:
    """Why ``value`` fails the param's ``validate`` (with ``values`` as ``params``), or
    None when it holds."""
    from podium.core.expr import ExpressionError, compile_expression

    rule = spec.validate_
    if rule is None:
        return None
    try:
        holds = compile_expression(rule.expr).evaluate({"value": value, "params": values})
    except ExpressionError as exc:
        return f"validate could not be evaluated: {exc.message}"
    if holds is True:
        return None
    return f"{shown(value)} is not valid: {rule.message or f'it must satisfy {rule.expr}'}"
