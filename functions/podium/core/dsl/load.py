"""Parse YAML/JSON text into a validated ``WorkflowDefinition`` with path-precise errors."""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from functools import lru_cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from podium.core.dsl.errors import (
    DefinitionError,
    Issue,
    did_you_mean,
    format_path,
    pattern_in_words,
)
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.graph_checks import check_graph, check_raw_graph
from podium.core.dsl.loops import check_bodies
from podium.core.dsl.models import (
    AWS_NAME,
    CONCURRENCY_KEY,
    HTTP_HEADER,
    IDENTIFIER,
    PERCENTAGE,
    STEP_TYPES,
    WORKFLOW_NAME,
    ApprovalStep,
    BatchJobStep,
    EcsTaskStep,
    FailStep,
    ForeachStep,
    GlueJobStep,
    HttpStep,
    LambdaStep,
    NoopStep,
    SfnExecutionStep,
    SleepStep,
    Strategy,
    SubworkflowStep,
    WaitForCallbackStep,
    WhileStep,
    WorkflowDefinition,
)
from podium.core.dsl.numbers import number_text
from podium.core.dsl.params import (
    check_default_validations,
    check_defaults,
    check_trigger_params,
)
from podium.core.dsl.stored import STORED
from podium.core.dsl.triggers import JOIN_KEY, TRIGGER_ID
from podium.core.dsl.yaml12 import use_core_schema
from podium.core.engine.signals import SIGNAL_NAME
from podium.core.text_checks import LONE_SURROGATE_FIX, find_lone_surrogate

_STEP_MODELS: dict[str, type[BaseModel]] = {
    "noop": NoopStep,
    "lambda": LambdaStep,
    "sleep": SleepStep,
    "fail": FailStep,
    "ecs_task": EcsTaskStep,
    "batch_job": BatchJobStep,
    "glue_job": GlueJobStep,
    "sfn_execution": SfnExecutionStep,
    "http": HttpStep,
    "wait_for_callback": WaitForCallbackStep,
    "approval": ApprovalStep,
    "foreach": ForeachStep,
    "while": WhileStep,
    "subworkflow": SubworkflowStep,
}


# ---- limits on what a definition may be (docs/operations.md lists them all) -----------

MAX_DEFINITION_CHARS = 16 * 1024 * 1024
"""Characters of definition text (YAML or JSON), checked before parsing."""
MAX_DOCUMENT_DEPTH = 64
"""Nesting depth of maps and lists in a definition (or a request body)."""
MAX_ALIAS_EXPANSION = 100_000
"""YAML nodes that aliases (``*name``) may add beyond the nodes written in the text."""
MAX_STEPS = 100_000
"""Steps in one workflow definition."""
MAX_PARAMS = 1_000
"""Params declared by one workflow."""
MAX_NAME_LENGTH = 80
"""Characters in a workflow name, step id, param name or concurrency key."""

# libyaml's C parser when installed (much faster); the same rules either way.
_SafeLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeLoader):  # type: ignore[misc]
    """YAML 1.2's core schema (core.dsl.yaml12): YAML 1.1 also reads on/off/yes/no as
    booleans, ``10:30`` as 630 and ``010`` as 8, which silently turns a param named
    ``on``, a value ``no`` (Norway) or a time of day into something else.

    Aliases are checked before anything is built: ten nested anchors that each repeat
    the one before ten times (a "billion laughs") are a few hundred bytes of text but a
    billion values, so the expanded size and the depth of the node graph are bounded.
    """

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        maybe_repeated: list[yaml.MappingNode] = []
        check_node_graph(node, maybe_repeated)
        if maybe_repeated:
            issues = _repeated_yaml_keys(node, maybe_repeated, self.construct_object)
            if issues:
                raise RepeatedKeys(issues)
        return self.construct_document(node)


use_core_schema(_Yaml12Loader)


class _DocumentLimit(Exception):
    pass


def check_node_graph(root: yaml.Node, maybe_repeated: list[yaml.MappingNode] | None = None) -> None:
    """Refuse alias expansion beyond MAX_ALIAS_EXPANSION nodes, recursive aliases, and
    nesting deeper than MAX_DOCUMENT_DEPTH. Iterative: no recursion on deep input.

    ``maybe_repeated`` collects the mappings that may give a key twice (a repeated
    string key, or a key of another type, which only its constructed value tells):
    ``_repeated_yaml_keys`` decides. In the same pass, as it costs one set per mapping."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_nodes.discard(key)
            child_keys = [id(c) for c in children]
            size[key] = 1 + sum([size[c] for c in child_keys])
            depth[key] = 1 + max([depth[c] for c in child_keys], default=0)
            if depth[key] > MAX_DOCUMENT_DEPTH:
                raise _DocumentLimit(
                    f"nested more than {MAX_DOCUMENT_DEPTH} levels deep"
                    f" (at line {node.start_mark.line + 1}); flatten the structure"
                )
            if size[key] - len(size) > MAX_ALIAS_EXPANSION:
                raise _DocumentLimit(
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} extra values"
                    f" (at line {node.start_mark.line + 1}); write the values out or use"
                    " fewer nested aliases"
                )
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise _DocumentLimit(
                f"recursive alias at line {node.start_mark.line + 1}: an anchor cannot"
                " contain an alias to itself"
            )
        open_nodes.add(key)
        stack.append((node, True))
        if maybe_repeated is not None and isinstance(node, yaml.MappingNode):
            pairs = node.value
            if len(pairs) > 1:
                # Any key not a plain string maps to None: a candidate for the exact check.
                keys = {k.value if k.tag == _STR_TAG else None for k, _ in pairs}
                if None in keys or len(keys) < len(pairs):
                    maybe_repeated.append(node)
        for child in children:
            child_key = id(child)
            if child_key in size:
                continue
            if type(child) is yaml.ScalarNode:
                # Most nodes are scalars: settled here, without two trips through the stack.
                size[child_key] = 1
                depth[child_key] = 1
                continue
            if child_key in open_nodes:
                raise _DocumentLimit(
                    f"recursive alias at line {child.start_mark.line + 1}: an anchor cannot"
                    " contain an alias to itself"
                )
            stack.append((child, False))


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_REPEATED_KEY_ISSUES = 20
"""Repeated keys reported one by one; past it, one more issue counts the rest."""


class RepeatedKeys(Exception):
    """A mapping gives a key twice: YAML and JSON parsers keep the last value and drop
    the others without a word (a step's first ``depends_on``, a whole ``steps`` list)."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in issues))
        self.issues = issues  # (path, message), in document order


def _repeated_message(key: str, lines: list[int], spellings: tuple[str, ...] = ()) -> str:
    times = "twice" if len(lines) == 2 else f"{len(lines)} times"
    at = sorted(set(lines))
    where = (
        f" (line {at[0]})"
        if len(at) == 1
        else f" (lines {', '.join(map(str, at[:-1]))} and {at[-1]})"
        if at
        else ""
    )
    same = [f"'{spelling[:40]}'" for spelling in dict.fromkeys(spellings)]
    written = f"; {', '.join(same[:-1])} and {same[-1]} are the same key" if len(same) > 1 else ""
    return f"key '{key[:80]}' is given {times}{where}{written}; keep one"


def _capped(issues: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if len(issues) <= MAX_REPEATED_KEY_ISSUES:
        return issues
    rest = len(issues) - MAX_REPEATED_KEY_ISSUES
    return [
        *issues[:MAX_REPEATED_KEY_ISSUES],
        ("", f"and {rest:,} more keys given more than once; keep one of each"),
    ]


def _repeated_yaml_keys(
    root: yaml.Node, candidates: list[yaml.MappingNode], construct: Any
) -> list[tuple[str, str]]:
    """(path, message) of each key given more than once in a mapping of ``candidates``,
    compared as the values the keys construct to (``1`` and ``01``, ``true`` and ``True``
    are one key). Merge keys (``<<: *base``) are not repeats: the mapping's own keys
    override the merged ones, as YAML says."""
    found: dict[int, list[_Repeat]] = {}
    for node in candidates:
        keys: dict[Any, _Repeat] = {}
        for k, _ in node.value:
            if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE_TAG:
                continue  # a map or list as a key: construction refuses it (unhashable)
            value = k.value if k.tag == _STR_TAG else construct(k)
            try:
                repeat = keys.setdefault(value, _Repeat(str(k.value)))
            except TypeError:  # unhashable: construction refuses it
                continue
            repeat.lines.append(k.start_mark.line + 1)
            repeat.spellings.append(str(k.value))
        repeats = [repeat for repeat in keys.values() if len(repeat.lines) > 1]
        if repeats:
            found[id(node)] = repeats
    if not found:
        return []
    issues: list[tuple[int, str, str]] = []
    # The places, in one walk from the root (each node once: aliases share them).
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        item, path = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        for repeat in found.get(id(item), []):
            where = f"{path}.{repeat.name}" if path else repeat.name
            message = _repeated_message(repeat.name, repeat.lines, tuple(repeat.spellings))
            issues.append((repeat.lines[0], where[:200], message))
        if isinstance(item, yaml.MappingNode):
            for k, v in reversed(item.value):
                part = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                stack.append((v, f"{path}.{part}" if path else part))
        elif isinstance(item, yaml.SequenceNode):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item.value))))
    issues.sort(key=lambda issue: issue[0])
    return _capped([(path, message) for _, path, message in issues])


class _Repeat:
    """A key of one mapping: its first spelling, and each line and spelling it has."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[int] = []
        self.spellings: list[str] = []


def loads_json(text: str, **options: Any) -> Any:
    """``json.loads`` that refuses an object giving a key twice (the parser keeps the last
    value and drops the others): raises RepeatedKeys naming each place (a path: the JSON
    parser gives no line)."""
    repeated: list[tuple[dict[str, Any], list[tuple[str, int]]]] = []

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) < len(pairs):
            counts: dict[str, int] = {}
            for name, _ in pairs:
                counts[name] = counts.get(name, 0) + 1
            repeated.append((obj, [(name, n) for name, n in counts.items() if n > 1]))
        return obj

    data = json.loads(text, object_pairs_hook=unique, **options)
    if not repeated:
        return data
    places = {id(obj): names for obj, names in repeated}
    issues: list[tuple[str, str]] = []
    # The places, in one walk from the root, in document order.
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for name, n in places.get(id(value), []):
                where = f"{path}.{name}" if path else name
                times = "twice" if n == 2 else f"{n} times"
                issues.append((where[:200], f"key '{name[:80]}' is given {times}; keep one"))
            for k, v in reversed(value.items()):
                if isinstance(v, (dict, list)):
                    stack.append((v, f"{path}.{k}" if path else str(k)))
        elif isinstance(value, list):
            stack.extend(
                (v, f"{path}[{i}]")
                for i, v in reversed(list(enumerate(value)))
                if isinstance(v, (dict, list))
            )
    raise RepeatedKeys(_capped(issues))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_depth(data: Any, limit: int = MAX_DOCUMENT_DEPTH) -> str | None:
    """The path of the first value nested deeper than ``limit``, or None. Iterative."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    while stack:
        value, level, path = stack.pop()
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        if level > limit:
            return (path[:60] + "...") if len(path) > 60 else (path or "(top level)")
        for k, v in items:
            if isinstance(v, (dict, list)):
                part = f"[{k}]" if isinstance(k, int) else (f".{k}" if path else str(k))
                stack.append((v, level + 1, path + part))
    return None


class NotJsonNumber(ValueError):
    """NaN, Infinity or a number too big for a double: Python's json reads them, JSON
    has none, and every answer echoing them back would not be JSON either."""


def _no_constant(constant: str) -> Any:
    raise NotJsonNumber(f"{constant} is not a JSON number; JSON numbers are finite")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJsonNumber(f"{text[:40]} is too big for a double; JSON numbers are finite")
    return value


def loads_strict_json(text: str) -> Any:
    """``loads_json`` that also refuses what JSON has no number for (NotJsonNumber):
    definitions and request bodies alike."""
    return loads_json(text, parse_constant=_no_constant, parse_float=_finite)


def _scalar_problem(exc: Exception) -> str:
    text = str(exc)
    if "integer string conversion" in text:
        return "a number has more than 4,300 digits; write it as a string"
    return text[:200]


_PLAIN = (str, int, float, bool, type(None))


def check_plain(data: Any) -> str | None:
    """The path of the first value JSON cannot hold (a YAML ``!!binary``, ``!!set``,
    ``!!timestamp``...), or None. Iterative."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                sub = f"{path}.{k}" if path else str(k)
                if not isinstance(k, _PLAIN):
                    return path or "(top level)"
                stack.append((v, sub))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
        elif not isinstance(value, _PLAIN):
            return path or "(top level)"
    return None


def check_finite(data: Any) -> str | None:
    """The path of the first float that is not a number or is infinite (YAML's ``.nan``,
    ``.inf``): JSON cannot hold them, so the API could not show the step. Iterative."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            return path or "(top level)"
    return None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a definition is read and checked.

    A parser allocates millions of containers and no cycles: each allocation burst sets
    off another collection pass over everything built so far, which makes a 100,000-step
    YAML definition several times slower to read. The collector comes back on (if it was
    on) when the parser returns or raises; a thread parsing at the same time only loses
    the speed-up."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


# The line breaks YAML reads (a str's splitlines also splits at \v, \f and \x1c-\x1e).
_YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _character_at(text: str, line: int, column: int) -> str | None:
    """The character at a YAML error's mark (0-based line and column), None past the end."""
    lines = _YAML_LINE_BREAK.split(text, maxsplit=line + 1)
    if line >= len(lines) or column >= len(lines[line]):
        return None
    return lines[line][column]


def _tab_problem(problem: str) -> str:
    """A tab where YAML wants a token: libyaml (the CSafeLoader) says "found character
    that cannot start any token" without naming it, and a tab is invisible in most
    editors, so the message says what it is."""
    if "tab" in problem.lower():  # "found a tab character that violates indentation"
        return problem
    return f"{problem} (a tab: YAML indents with spaces)"


@_collector_paused()
def parse_document(text: str, source: str = "<definition>") -> dict[str, Any]:
    """YAML is a superset of JSON, but JSON gets JSON's clearer error messages."""
    if len(text) > MAX_DEFINITION_CHARS:
        raise DefinitionError(
            [
                Issue(
                    source,
                    f"definition is {len(text):,} characters, over the limit of"
                    f" {MAX_DEFINITION_CHARS:,}; split it into smaller workflows",
                )
            ]
        )
    stripped = text.lstrip()
    try:
        data = (
            loads_strict_json(text)
            if stripped.startswith("{")
            else yaml.load(text, Loader=_Yaml12Loader)
        )
    except RepeatedKeys as exc:  # the parsers keep the last value: one would be lost
        raise DefinitionError([Issue(path or source, msg) for path, msg in exc.issues]) from None
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            [Issue(source, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None and _character_at(text, mark.line, mark.column) == "\t":
            problem = _tab_problem(problem)
        raise DefinitionError([Issue(source, f"invalid YAML{where}: {problem}")]) from None
    except _DocumentLimit as exc:
        raise DefinitionError([Issue(source, f"invalid YAML: {exc}")]) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # A scalar its constructor refuses: an int of more than 4,300 digits, a tagged
        # value that does not parse (`!!float abc`, `!!timestamp 2024-13-45`).
        kind = "JSON" if stripped.startswith("{") else "YAML"
        fix = " (write null or a string)" if isinstance(exc, NotJsonNumber) else ""
        raise DefinitionError(
            [Issue(source, f"invalid {kind}: {_scalar_problem(exc)}{fix}")]
        ) from None
    except (RecursionError, MemoryError):
        raise DefinitionError(
            [Issue(source, f"nested more than {MAX_DOCUMENT_DEPTH} levels deep; flatten it")]
        ) from None
    if not isinstance(data, dict):
        raise DefinitionError(
            [Issue(source, "a workflow definition must be a mapping with 'name' and 'steps'")]
        )
    deep = check_depth(data)
    if deep is not None:
        raise DefinitionError(
            [Issue(deep, f"nested more than {MAX_DOCUMENT_DEPTH} levels deep; flatten it")]
        )
    odd = check_plain(data)
    if odd is not None:
        raise DefinitionError(
            [
                Issue(
                    odd[:80],
                    "only strings, numbers, booleans, null, lists and maps are allowed"
                    " (a YAML tag such as !!binary, !!set or !!timestamp is not); quote the value",
                )
            ]
        )
    odd = check_finite(data)
    if odd is not None:
        raise DefinitionError(
            [Issue(odd[:80], "not a finite number (.nan, .inf); write null or a string")]
        )
    return data


def check_size_limits(data: dict[str, Any]) -> list[Issue]:
    """Counts and name lengths the models do not bound (before pydantic sees them)."""
    issues: list[Issue] = []
    steps = data.get("steps")
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        issues.append(
            Issue(
                "steps",
                f"{len(steps):,} steps, over the limit of {MAX_STEPS:,} per workflow;"
                " split the work into subworkflows or a foreach",
            )
        )
    params = data.get("params")
    if isinstance(params, dict):
        if len(params) > MAX_PARAMS:
            issues.append(
                Issue("params", f"{len(params):,} params, over the limit of {MAX_PARAMS:,}")
            )
        for name in params:
            if isinstance(name, str) and not 1 <= len(name) <= MAX_NAME_LENGTH:
                issues.append(
                    Issue(
                        f"params.{name[:40]}",
                        f"param names must be 1 to {MAX_NAME_LENGTH} characters long",
                    )
                )
            elif isinstance(name, str) and not PARAM_NAME.fullmatch(name):
                issues.append(Issue(f"params.{name}", _param_name_words(name)))
    return issues


PARAM_NAME = re.compile(r"[\w.\-]+")
"""What a param's name may hold: letters, digits, '_', '-' and '.' (a run sets it as
``-p NAME=VALUE``, a query string as ``NAME=VALUE&...``: an '=', a space or a ',' in it
could not be given)."""


def _param_name_words(name: str) -> str:
    fixed = re.sub(r"[^\w.\-]+", "_", name).strip("_") or "p"
    return (
        f"'{name}' is not a param name: use letters, digits, '_', '-' and '.'"
        f" (a run sets it as -p NAME=VALUE), e.g. '{fixed}'"
    )


def load_definition(text: str, source: str = "<definition>") -> WorkflowDefinition:
    return validate_definition(parse_document(text, source))


@_collector_paused()  # a model per step: the same bursts of allocations as parsing
def validate_definition(data: dict[str, Any], *, stored: bool = False) -> WorkflowDefinition:
    """Every issue at once: shape errors first, then graph and param-default errors.

    ``stored``: a version read back from the store, which passed the checks of the
    release that stored it: only what running it needs is required (its shape, its
    graph, expressions that compile), not the push rules added since (core.dsl.stored).
    """
    if not stored:  # a stored version came back from JSON text: it holds none
        lone = find_lone_surrogate(data)
        if lone is not None:  # pydantic's words, or a crash quoting it back (a duration)
            raise DefinitionError([Issue(lone or "(top level)", LONE_SURROGATE_FIX)])
    too_big = check_size_limits(data) if isinstance(data, dict) and not stored else []
    if too_big:
        raise DefinitionError(too_big)
    try:
        defn = WorkflowDefinition.model_validate(data, context=STORED if stored else None)
    except ValidationError as exc:
        errors = _without_union_noise(exc.errors(), data)
        shape = list(dict.fromkeys(_issue_from(err, data) for err in errors))
        beside = _expression_issues_beside(data, errors, stored)
        raise DefinitionError(shape + check_raw_graph(data) + beside) from None
    issues = check_graph(defn) + check_defaults(defn)
    if not stored:  # a version stored before this check keeps loading
        issues += check_trigger_params(defn) + check_default_validations(defn)
    if not issues:  # expression references need a sound graph (who is upstream)
        try:
            WorkflowExpressions.of(defn, stored=stored)
        except DefinitionError as exc:
            issues += exc.issues
        if not stored:  # bodies compile when a loop first runs (CompiledWorkflow.body)
            issues += check_bodies(defn)
    if issues:
        raise DefinitionError(issues)
    return defn


def _expression_issues_beside(data: dict[str, Any], errors: list[Any], stored: bool) -> list[Issue]:
    """The expression issues of the steps that did validate, when only some steps have
    shape errors: each of those stands in as a noop of its id and dependencies, so one
    ``podium validate`` lists a bad ``when`` beside another step's bad field (not after
    it is fixed). Nothing when an error lies outside the steps, the stand-ins do not
    validate (a dependency was the error) or the graph is unsound."""
    bad: set[int] = set()
    for err in errors:
        loc = tuple(err["loc"])
        if len(loc) < 2 or loc[0] != "steps" or not isinstance(loc[1], int):
            return []
        bad.add(loc[1])
    steps = data.get("steps")
    if not isinstance(steps, list) or not all(0 <= i < len(steps) for i in bad):
        return []
    stand_ins = list(steps)
    for i in bad:
        raw = steps[i]
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            return []
        stand_ins[i] = {"id": raw["id"], "type": "noop"}
        if "depends_on" in raw:
            stand_ins[i]["depends_on"] = raw["depends_on"]
    try:
        defn = WorkflowDefinition.model_validate(
            {**data, "steps": stand_ins}, context=STORED if stored else None
        )
    except ValidationError:
        return []
    if check_graph(defn):
        return []  # listed already (check_raw_graph); expressions need a sound graph
    try:
        WorkflowExpressions.of(defn, stored=stored)
    except DefinitionError as exc:
        own = tuple(f"steps[{i}]" for i in bad)
        return [
            issue
            for issue in exc.issues
            if not any(issue.path == p or issue.path.startswith((p + ".", p + "[")) for p in own)
        ]
    return []


def _model_at(loc: tuple[str | int, ...], data: dict[str, Any]) -> type[BaseModel] | None:
    """The model whose field ``loc[-1]`` was, found by walking the definition's models
    along ``loc`` (a step by its ``type``, at any depth: a loop body's, a retry policy's,
    a trigger's); None when the path leaves the models (a dict of the user's own keys)."""
    model: Any = WorkflowDefinition
    value: Any = data
    for part in loc[:-1]:
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and part < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(model, type) and issubclass(model, BaseModel):
            info = model.model_fields.get(str(part)) if isinstance(part, str) else None
            if info is None:
                return None
            model = info.annotation
        else:
            model = _element(model, part)
        model = _resolved(model, value)
        if model is None:
            return None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _element(annotation: Any, part: str | int) -> Any:
    """The type of ``part`` in a list or dict annotation (None: neither)."""
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is list and isinstance(part, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _resolved(annotation: Any, value: Any) -> Any:
    """An annotation without its ``Annotated``, ``Optional`` and unions: a step by its
    ``type``, else the one member that is a model or a container (None: several)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        members = [m for m in get_args(annotation) if m is not type(None)]
        if isinstance(value, dict) and all(
            isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
            for m in members
        ):
            return _STEP_MODELS.get(str(value.get("type")))
        shaped = [
            m
            for m in members
            if (isinstance(m, type) and issubclass(m, BaseModel)) or get_origin(m) in (list, dict)
        ]
        return _resolved(shaped[0], value) if len(shaped) == 1 else None
    return annotation


# The tags pydantic puts into an error's location for the members of a plain union
# (``Name | list[CapacityProviderItem]``: "constrained-str", "list[...]"); users never
# wrote them. (A model member's tag is its class name, which could be a user's key too:
# ``_model_tags`` finds those by position.)
_MEMBER_TAG = re.compile(r"^(str|int|float|bool|none|constrained-[a-z]+|[a-z][a-z-]*\[.*\])$")


def _model_tags(loc: tuple[Any, ...], data: dict[str, Any]) -> set[int]:
    """The places in ``loc`` that are a model member's tag (``depends_on[0].Edge.step``
    for ``list[str | Edge]``), found by walking the definition's models along ``loc``
    (a step by its ``type`` tag, into loop bodies): a user's key named like a model
    (a param ``Edge``) is at a place where no union is, and is kept."""
    tags: set[int] = set()
    annotation: Any = WorkflowDefinition
    for n, part in enumerate(loc):
        while get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        if get_origin(annotation) in (Union, UnionType):
            members = [m for m in get_args(annotation) if m is not type(None)]
            models = {
                m.__name__: m for m in members if isinstance(m, type) and issubclass(m, BaseModel)
            }
            if isinstance(part, str) and part in models and len(members) > 1:
                tags.add(n)
                annotation = models[part]
                continue
            if isinstance(part, str) and part in _STEP_MODELS and len(models) == len(members):
                annotation = _STEP_MODELS[part]  # a step's type tag: dropped by _issue_from
                continue
            annotation = members[0] if len(members) == 1 else None
            while get_origin(annotation) is Annotated:
                annotation = get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part) if isinstance(part, str) else None
            annotation = None if info is None else info.annotation
        else:
            annotation = _element(annotation, part)
        if annotation is None:
            break
    return tags


def _member_tags(loc: tuple[Any, ...], data: dict[str, Any]) -> set[int]:
    named = {n for n, part in enumerate(loc) if isinstance(part, str) and _MEMBER_TAG.match(part)}
    return named | _model_tags(loc, data)


def _member_at(loc: tuple[Any, ...], data: dict[str, Any]) -> int | None:
    return min(_member_tags(loc, data), default=None)


def _without_union_noise(errors: list[Any], data: dict[str, Any]) -> list[Any]:
    """One error per union member is noise when the value had another member's shape:
    ``capacity_provider: [{weight: -1}]`` says the weight is wrong, not also that the
    list is not a string. A member's own type error is dropped when another member of
    the same union reported something inside the value."""
    inside: set[tuple[Any, ...]] = set()
    for err in errors:
        n = _member_at(tuple(err["loc"]), data)
        if n is not None and len(err["loc"]) > n + 1:
            inside.add(tuple(err["loc"][:n]))
    kept = []
    for err in errors:
        loc = tuple(err["loc"])
        n = _member_at(loc, data)
        if n is not None and len(loc) == n + 1 and loc[:n] in inside:
            continue
        kept.append(err)
    return kept


# What a value must look like, by the pattern it failed: the message of the field it is
# in (a signal name or a trigger id is not a step id, whose rules the fallback gives).
_PATTERN_WORDS = {
    SIGNAL_NAME: "is not a signal name: 1-128 letters, digits and _ . : / -, starting with"
    " a letter or digit (e.g. sales_ready, team/etl:done)",
    TRIGGER_ID: "is not a trigger id: 1-40 letters, digits, _ and -, starting with a letter"
    " (e.g. nightly, on-upload)",
    JOIN_KEY: "is not a param name: 1-64 letters, digits and _, not starting with a digit",
    CONCURRENCY_KEY: "is not a concurrency key: 1-80 letters, digits and _ . : -",
    IDENTIFIER: "is not a valid id: use letters, digits and '_', starting with a letter or"
    " '_' (ids are used in expressions such as steps.<id>.output)",
    WORKFLOW_NAME: "is not a workflow name: 1-80 letters, digits, '_' and '-', starting with"
    " a letter (e.g. daily_reports)",
    AWS_NAME: "is not an AWS name or ARN: letters, digits and _ . / : + = @ -, starting with"
    " a letter or digit, without spaces",
    HTTP_HEADER: "is not an HTTP header name: 1-64 letters, digits and '-'",
    PERCENTAGE: "is not a percentage: from 0% to 100%, such as '10%' or '2.5%'",
}


def _issue_from(err: Any, data: dict[str, Any]) -> Issue:
    loc: tuple[str | int, ...] = tuple(err["loc"])
    tags = _member_tags(loc, data)
    loc = tuple(part for n, part in enumerate(loc) if n not in tags)
    # Discriminated unions put the tag into the location (at every level of nested loop
    # steps); users never wrote it.
    loc = tuple(
        part
        for n, part in enumerate(loc)
        if not (
            n >= 2 and part in STEP_TYPES and loc[n - 2] == "steps" and isinstance(loc[n - 1], int)
        )
    )
    if _KEY in loc:  # the key of a map is wrong, not a value: named as the user wrote it
        return _key_issue(err, loc[: loc.index(_KEY)], data)
    kind = err["type"]
    if kind == "invalid_key":  # a model's own key (`true:` in a step): the key is last
        return _key_issue({**err, "type": "string_type"}, loc, data)
    path = format_path(loc)
    if loc and loc[0] == "run_strategy":
        raw = data.get("run_strategy")
        if loc[-1] == "parallel" and kind == "value_error":  # over MAX_PARALLEL_RUNS
            return Issue("run_strategy.parallel", str(err["ctx"]["error"]))
        if raw == Strategy.PARALLEL.value:
            return Issue(
                "run_strategy",
                "parallel needs its limit: {parallel: N} (N >= 0; 0 pauses the workflow)",
            )
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
        if model is None:
            return Issue(path, f"unknown field '{field}'")
        names = [info.alias or name for name, info in model.model_fields.items()]
        hint = did_you_mean(field, names)
        allowed = ", ".join(sorted(names))
        return Issue(path, f"unknown field '{field}'{hint}; allowed fields: {allowed}")
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag", "?")
        raw = err.get("input")
        if isinstance(raw, dict) and raw.get("type") is None:  # `type:` left empty
            return Issue(
                f"{path}.type", f"a step needs a type; use one of: {', '.join(STEP_TYPES)}"
            )
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
        pattern = str(err.get("ctx", {}).get("pattern", ""))
        if pattern in _PATTERN_WORDS:
            return Issue(path, f"'{str(err.get('input'))[:80]}' {_PATTERN_WORDS[pattern]}")
        # A pattern without words of its own: said as simply as it can be.
        words = pattern_in_words(pattern) or f"does not match the pattern {pattern}"
        return Issue(path, f"'{str(err.get('input'))[:80]}' {words}")
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return Issue(path, f"'{err.get('input')}' is not allowed; use one of: {expected}")
    if loc and loc[-1] == "depends_on" and kind == "list_type":
        raw = err.get("input")
        example = f"[{raw}]" if isinstance(raw, str) and raw else "[extract]"
        return Issue(
            path,
            f"depends_on must be a list of step ids, e.g. {example}"
            " (or {step: id, when: expression} entries)",
        )
    if kind in ("list_type", "dict_type"):
        return Issue(path, _shape_words(loc, kind == "list_type", err.get("input")))
    if kind in _BOUND_KINDS and "input" in err:
        return Issue(path, _range_words(loc, data, err))
    if kind == "too_short" and loc == ("steps",):
        return Issue(path, "a workflow needs at least one step")
    if kind == "value_error" and "error" in err.get("ctx", {}):
        return Issue(path, str(err["ctx"]["error"]))  # our own words, without pydantic's prefix
    if kind == "model_attributes_type" and len(loc) >= 2 and loc[-2] == "steps":
        return Issue(path, _not_a_step(err.get("input")))
    if kind == "literal_error":
        return Issue(path, _literal_words(err))
    if kind == "model_type":  # "... instance of Concurrency": a class the user never wrote
        return Issue(path, _shape_message(str(err.get("ctx", {}).get("class_name")), err))
    if kind in _SCALAR_WORDS and "input" in err:  # pydantic's "Input should be ..." words
        shown = json.dumps(err["input"], default=str)[:80]
        return Issue(path, f"{shown} is not {_SCALAR_WORDS[kind]}")
    return Issue(path, str(err["msg"]))


def _not_a_step(raw: Any) -> str:
    """A step written as something else: ``steps: [extract, load]`` (ids listed instead
    of steps), or a ``-`` left alone (null)."""
    example = "a step is a map such as {id: extract, type: lambda, function: ...}"
    if raw is None:
        return f"an empty entry (a '-' alone?): {example}"
    if isinstance(raw, str):
        return f"'{raw[:80]}' is not a step: {example}"
    return f"{json.dumps(raw, default=str)[:80]} is not a step: {example}"


def _literal_words(err: Any) -> str:
    """``method: get``: the allowed values, and the case when only the case is wrong."""
    raw = err.get("input")
    expected = str(err.get("ctx", {}).get("expected", ""))
    allowed = re.findall(r"'([^']*)'", expected)
    shown = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    words = f"'{str(shown)[:80]}' is not allowed; use one of: {', '.join(allowed) or expected}"
    if isinstance(raw, str):
        same = [a for a in allowed if a.lower() == raw.lower()]
        if same:
            return f"{words} (the case matters: write '{same[0]}')"
    return words


# What a field of the wrong scalar type needed, said with the fix.
_SCALAR_WORDS = {
    "int_parsing": "a whole number: write digits, e.g. 30",
    "int_type": "a whole number: write digits, e.g. 30",
    "int_from_float": "a whole number: drop the fraction",
    "float_parsing": "a number: write digits, e.g. 0.5",
    "float_type": "a number: write digits, e.g. 0.5",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text: quote it",
}


# What a list field holds, and an example of it (said when a map or a single value was
# written instead: ``retry:`` indented as one retrier, ``approvers: alice``).
_LIST_OF = {
    "steps": ("steps", "[{id: a, type: noop}]"),
    "retry": ("retriers", "[{errors: [Podium.ALL], max_attempts: 3}]"),
    "triggers": ("triggers", '[{cron: "0 6 * * *"}]'),
    "wait_for": ("signals to wait for", "[{signal: sales_ready}]"),
    "emit": ("signals to send", "[{signal: sales_ready}]"),
    "approvers": ("names", "[alice, bob]"),
    "errors": ("error types", "[ValueError, Podium.Timeout]"),
    "command": ("arguments", "[python, main.py]"),
    "subnets": ("subnet ids", "[subnet-0abc]"),
    "security_groups": ("security group ids", "[sg-0abc]"),
}
# What a map field holds, and an example (said when a list or a value was written).
_MAP_OF = {
    "over": (
        "loop params, each a list or a template giving one (iteration.<name> in the body)",
        "{region: [emea, amer]}",
    ),
    "params": ("params and their values", "{table: sales}"),
    "tags": ("tags", "{team: data}"),
    "outputs": ("outputs", '{rows: "${steps.load.output.rows}"}'),
    "state": ("state fields and their first values", "{n: 0}"),
    "update": ("state fields and their next values", '{n: "${state.n + 1}"}'),
    "environment": ("variables", "{STAGE: prod}"),
    "parameters": ("job parameters", "{day: 2024-01-01}"),
    "arguments": ("job arguments", "{--day: 2024-01-01}"),
    "headers": ("headers", "{Accept: application/json}"),
}
_WORKFLOW_PARAMS = ("params, each with its type", "{date: {type: string}}")
_EXAMPLE_CHARS = 80  # a user's value longer than this is not shown back as the example


def _shape_words(loc: tuple[str | int, ...], is_list: bool, raw: Any) -> str:
    """A list where a map goes, or a map where a list goes, said with what the field
    takes and an example: the user's own value, put in the right shape, when it can be
    (``over: [emea, amer]`` -> ``over: {region: [emea, amer]}``)."""
    field = str(loc[-1]) if loc and isinstance(loc[-1], str) else ""
    if is_list:
        noun, example = _LIST_OF.get(field, ("values", "[a, b]"))
        if isinstance(raw, dict) or (raw is not None and not isinstance(raw, list)):
            example = _flow([raw]) or example  # one entry, or one value: made the list's
        shape = f"a list of {noun}"
    else:
        noun, example = _WORKFLOW_PARAMS if loc == ("params",) else _MAP_OF.get(field, ("", ""))
        if field == "over" and isinstance(raw, (list, str)):
            example = _flow({"region": raw}) or example  # the list itself, or a template
        elif loc == ("params",) and isinstance(raw, list):
            example = _params_map(raw) or example
        shape = f"a map of {noun}" if noun else "a map of names and values"
        example = example or "{name: value}"
    named = f"{field}: " if field else ""
    return f"must be {shape}, e.g. {named}{example}"


def _flow(value: Any) -> str | None:
    """``value`` in YAML's flow style (``{a: [1, 2]}``), or None when it is long."""
    try:
        text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, sort_keys=False)
    except yaml.YAMLError:
        return None
    text = text.strip()
    return text if len(text) <= _EXAMPLE_CHARS else None


def _params_map(raw: list[Any]) -> str | None:
    """``params: [{name: date, type: string}]`` written as the map it must be."""
    if not all(isinstance(p, dict) and isinstance(p.get("name"), str) for p in raw):
        return None
    return _flow({p["name"]: {k: v for k, v in p.items() if k != "name"} for p in raw})


# pydantic's kinds of a number out of its range, and the bound's name in its ``ctx``.
_BOUND_KINDS = {
    "greater_than_equal": "ge",
    "greater_than": "gt",
    "less_than_equal": "le",
    "less_than": "lt",
}


def _range_words(loc: tuple[str | int, ...], data: dict[str, Any], err: Any) -> str:
    """``retries: 100``: "100 is more than 99 (allowed: 0 to 99)", the field's range from
    its model (pydantic's error names only the bound that failed)."""
    bounds = {**_field_bounds(loc, data), **err.get("ctx", {})}
    bound = bounds[_BOUND_KINDS[err["type"]]]
    said = {
        "ge": "less than",
        "gt": "not more than",
        "le": "more than",
        "lt": "not less than",
    }[_BOUND_KINDS[err["type"]]]
    low = (
        f"{number_text(bounds['ge'])}"
        if "ge" in bounds
        else f"more than {number_text(bounds['gt'])}"
        if "gt" in bounds
        else ""
    )
    high = (
        f"{number_text(bounds['le'])}"
        if "le" in bounds
        else f"less than {number_text(bounds['lt'])}"
        if "lt" in bounds
        else ""
    )
    if low and high:
        allowed = f"{low} to {high}" if "ge" in bounds and "le" in bounds else f"{low}, {high}"
    elif low:
        allowed = f"{low} or more" if "ge" in bounds else low
    else:
        allowed = f"{high} or less" if "le" in bounds else high
    return f"{number_text(err['input'])} is {said} {number_text(bound)} (allowed: {allowed})"


def _field_bounds(loc: tuple[str | int, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The ``ge``/``gt``/``le``/``lt`` bounds of the model field ``loc`` ends with (none
    when ``loc`` leaves the models)."""
    model = _model_at(loc, data) if loc and isinstance(loc[-1], str) else None
    if model is None:
        return {}
    info = next((i for name, i in model.model_fields.items() if loc[-1] in (name, i.alias)), None)
    if info is None:
        return {}
    found: dict[str, Any] = {}
    stack: list[Any] = [info.annotation, *info.metadata]
    while stack:
        item = stack.pop()
        if isinstance(item, FieldInfo):
            stack.extend(item.metadata)
        elif isinstance(item, (Ge, Gt, Le, Lt)):
            name = type(item).__name__.lower()
            found.setdefault(name, getattr(item, name))
        elif get_origin(item) not in (list, dict):  # an element's bounds are not the field's
            stack.extend(get_args(item))
    return found


# pydantic's marker, in an error's location, of a map's key (``params[1].[key]``).
_KEY = "[key]"


def _key_issue(err: Any, loc: tuple[str | int, ...], data: dict[str, Any]) -> Issue:
    """A map's key (the last part of ``loc``) that pydantic refused: ``params.1``, not
    ``params[1].[key]``; one YAML reads as a number, a boolean or null is to be quoted."""
    *where, key = loc
    if err["type"] == "string_type":  # pydantic shows the key True as 1: its input is it
        raw = err.get("input")
        key = json.dumps(raw) if raw is None or isinstance(raw, bool) else str(raw)
    path = f"{format_path(where)}.{key}" if where else str(key)
    if err["type"] != "string_type":
        return Issue(path, _issue_from({**err, "loc": loc}, data).message)
    return Issue(path, f"a name is text; quote it ('{key}')")


# The shape to write of the models most often given another value ({concurrency: 5}).
_SHAPES = {
    "Concurrency": "{key: K, limit: N}",
    "Edge": "{step: id, when: expression}",
    "ParamSpec": "{type: string, default: value}",
}


def _shape_message(class_name: str, err: Any) -> str:
    """What a value a model expected must look like, said without the model's name."""
    model = _models_by_name().get(class_name)
    if model is None:
        return "must be a map"
    fields = model.model_fields
    names = sorted(info.alias or name for name, info in fields.items())
    required = [info.alias or name for name, info in fields.items() if info.is_required()]
    kind: Any = fields["type"].annotation if "type" in fields else None
    raw = err.get("input")
    enum = isinstance(kind, type) and issubclass(kind, Enum)
    if enum and isinstance(raw, str) and raw in {k.value for k in kind}:
        shape = f"{{type: {raw}}}"  # params: {day: string}, the shorthand of {type: string}
    elif class_name in _SHAPES or required:
        shape = _SHAPES.get(class_name) or "{" + ", ".join(f"{n}: ..." for n in required) + "}"
    else:
        return f"must be a map of its fields: {', '.join(names)}"
    return f"must be a map such as {shape} (its fields: {', '.join(names)})"


@lru_cache(maxsize=1)
def _models_by_name() -> dict[str, type[BaseModel]]:
    """Every model a definition is made of, by class name (as pydantic names them)."""
    found: dict[str, type[BaseModel]] = {}
    stack: list[Any] = [WorkflowDefinition]
    while stack:
        annotation = stack.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__name__ in found:
                continue
            found[annotation.__name__] = annotation
            stack.extend(info.annotation for info in annotation.model_fields.values())
        else:
            stack.extend(get_args(annotation))
    return found
