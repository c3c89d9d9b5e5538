"""Parse YAML/JSON text into a validated ``WorkflowDefinition`` with path-precise errors."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean, format_path
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.graph_checks import check_graph, check_raw_graph
from podium.core.dsl.models import (
    STEP_TYPES,
    FailStep,
    LambdaStep,
    NoopStep,
    ParamSpec,
    SleepStep,
    Strategy,
    WorkflowDefinition,
)
from podium.core.dsl.params import check_defaults

_STEP_MODELS: dict[str, type[BaseModel]] = {
    "noop": NoopStep,
    "lambda": LambdaStep,
    "sleep": SleepStep,
    "fail": FailStep,
}


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. YAML 1.1 also reads on/off/yes/no as booleans,
    which silently turns a param named ``on`` or a value ``no`` (Norway) into a bool."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_document(text: str, source: str = "<definition>") -> dict[str, Any]:
    """YAML is a superset of JSON, but JSON gets JSON's clearer error messages."""
    stripped = text.lstrip()
    try:
        data = (
            json.loads(text) if stripped.startswith("{") else yaml.load(text, Loader=_Yaml12Loader)
        )
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Issue(source, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError([Issue(source, f"invalid YAML{where}: {problem}")]) from None
    if not isinstance(data, dict):
        raise DefinitionError(
            [Issue(source, "a workflow definition must be a mapping with 'name' and 'steps'")]
        )
    return data


def load_definition(text: str, source: str = "<definition>") -> WorkflowDefinition:
    return validate_definition(parse_document(text, source))


def validate_definition(data: dict[str, Any]) -> WorkflowDefinition:
    """Every issue at once: shape errors first, then graph and param-default errors."""
    try:
        defn = WorkflowDefinition.model_validate(data)
    except ValidationError as exc:
        shape = list(dict.fromkeys(_issue_from(err, data) for err in exc.errors()))
        raise DefinitionError(shape + check_raw_graph(data)) from None
    issues = check_graph(defn) + check_defaults(defn)
    if not issues:  # expression references need a sound graph (who is upstream)
        try:
            WorkflowExpressions.of(defn)
        except DefinitionError as exc:
            issues += exc.issues
    if issues:
        raise DefinitionError(issues)
    return defn


def _model_at(loc: tuple[str | int, ...], data: dict[str, Any]) -> type[BaseModel]:
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = data.get("steps")
        step = steps[loc[1]] if isinstance(steps, list) and loc[1] < len(steps) else None
        kind = step.get("type") if isinstance(step, dict) else None
        return _STEP_MODELS.get(str(kind), NoopStep)
    if len(loc) >= 2 and loc[0] == "params":
        return ParamSpec
    return WorkflowDefinition


def _issue_from(err: Any, data: dict[str, Any]) -> Issue:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    # Discriminated unions put the tag into the location; users never wrote it.
    if len(loc) >= 3 and loc[0] == "steps" and loc[2] in STEP_TYPES:
        loc = loc[:2] + loc[3:]
    kind = err["type"]
    path = format_path(loc)
    if loc and loc[0] == "run_strategy":
        raw = data.get("run_strategy")
        names = [s.value for s in Strategy if s is not Strategy.PARALLEL]
        hint = did_you_mean(str(raw), [*names, "parallel"]) if isinstance(raw, str) else ""
        return Issue(
            "run_strategy",
            f"{raw!r} is not a run strategy{hint}; use {', '.join(names)}, or"
            " {parallel: N} (N >= 0; 0 pauses the workflow)",
        )
    if kind == "extra_forbidden":
        field = str(loc[-1])
        model = _model_at(loc, data)
        hint = did_you_mean(field, model.model_fields)
        allowed = ", ".join(sorted(model.model_fields))
        return Issue(path, f"unknown field '{field}'{hint}; allowed fields: {allowed}")
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", "?")
        return Issue(
            f"{path}.type",
            f"unknown step type '{tag}'{did_you_mean(str(tag), STEP_TYPES)}; "
            f"use one of: {', '.join(STEP_TYPES)}",
        )
    if kind == "union_tag_not_found":
        return Issue(f"{path}.type", f"missing step type; use one of: {', '.join(STEP_TYPES)}")
    if kind == "missing":
        return Issue(path, "required field is missing")
    if kind == "string_pattern_mismatch":
        if loc and loc[-1] == "name":
            return Issue(
                path,
                "workflow name must start with a letter and use only letters, digits, '_' or '-'"
                " (at most 80)",
            )
        return Issue(
            path,
            f"'{err.get('input')}' is not a valid id: use letters, digits and '_', starting with"
            " a letter or '_' (ids are used in expressions such as steps.<id>.output)",
        )
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return Issue(path, f"'{err.get('input')}' is not allowed; use one of: {expected}")
    if kind == "too_short" and loc == ("steps",):
        return Issue(path, "a workflow needs at least one step")
    return Issue(path, str(err["msg"]))
