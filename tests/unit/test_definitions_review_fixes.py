"""Definitions at push, found by a review: indexed step references checked, Python
callables inside loop bodies refused by a deployed stack, YAML 1.2's core schema (`op: =`,
no base-60 or octal ints), references checked in a param's validate, a signal trigger's
condition and a retry's `when`, emit literal params a signal cannot have, non-string keys
and model names out of messages, a trigger jitter named at its field, a match on more
params than a signal has. Each test failed before its fix (its docstring says what was
wrong and what is right)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, validate_definition


def issues_of(text_or_data: str | dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        if isinstance(text_or_data, str):
            load_definition(text_or_data)
        else:
            validate_definition(text_or_data)
    return [(i.path, i.message) for i in caught.value.issues]


def said(issues: list[tuple[str, str]]) -> str:
    return "\n".join(f"{p}: {m}" for p, m in issues)


# ---- 1. indexed access (steps["a"]) escapes the reference checks -----------------------


def test_an_indexed_step_reference_is_checked_at_push() -> None:
    """docs/expressions.md: ``m.f`` is ``m['f']``. But the reference extractor stops at
    the index, so ``${steps["nope"].output}`` is only a reference to ``steps``: an unknown
    step passes push, and for a real upstream step the run fails ("payload: no such key:
    'a'", since its output is never bound: it is not in ``steps_read``). Right: read
    ``steps["a"]`` as ``steps.a`` (checked and bound), or refuse the form at push."""
    definition = {
        "name": "w",
        "steps": [
            {"id": "a", "type": "noop"},
            {
                "id": "b",
                "type": "lambda",
                "function": "f",
                "depends_on": ["a"],
                "payload": {"x": '${steps["nope"].output}'},
            },
        ],
    }
    issues = issues_of(definition)
    assert any(p == "steps[1].payload.x" and "nope" in m for p, m in issues), said(issues)


# ---- 2. a Python callable inside a loop passes a deployed push --------------------------


def test_a_deployed_push_refuses_a_python_callable_inside_a_loop_body() -> None:
    """docs/workflow-language.md: ``function: package.module:function`` is refused at push
    by a deployed stack. ``python_ref_issues`` looks at the top-level steps only, so the
    same step inside a foreach (or while) body is stored, and fails when it runs on AWS.
    (``podium validate``'s notes miss it the same way.) Right: walk loop bodies too
    (service/workflows.py push_definition / core/functions.python_ref_issues)."""
    from podium.local.runtime import LocalRuntime
    from podium.service.workflows import push_workflow

    definition = {
        "name": "w",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": [1, 2]},
                "steps": [{"id": "x", "type": "lambda", "function": "sales_etl:extract"}],
            }
        ],
    }
    with LocalRuntime(store="memory") as rt:
        rt.services.local_functions = False  # as bootstrap.from_environment wires AWS
        with pytest.raises(DefinitionError) as caught:
            push_workflow(rt.services, definition)
    (issue,) = caught.value.issues
    assert issue.path == "steps[0].steps[0].function", issue
    assert "Python callable" in issue.message


# ---- 3. YAML 1.1 leftovers in the "YAML 1.2" loader ------------------------------------


def test_an_unquoted_equals_op_in_a_signal_match_loads() -> None:
    """The documented match form is ``{op: "=|>|>=|<|<=", value: V}``; in YAML written
    ``{op: =, value: 1}``. The loader keeps YAML 1.1's ``tag:yaml.org,2002:value``
    resolver for a plain ``=``, so the definition is refused with "could not determine a
    constructor for the tag 'tag:yaml.org,2002:value'". YAML 1.2 (which the loader
    follows for booleans and timestamps) reads ``=`` as the string. Right: drop the
    ``value`` (and ``merge``-as-value) implicit resolvers (core/dsl/load.py)."""
    text = (
        "name: w\n"
        "steps:\n"
        "  - id: a\n"
        "    type: noop\n"
        "    wait_for: [{signal: s, match: {rows: {op: =, value: 1}}}]\n"
    )
    defn = load_definition(text)
    assert defn.steps[0].wait_for[0].match == {"rows": {"op": "=", "value": 1}}


def test_yaml_1_1_sexagesimal_and_octal_numbers_are_not_read() -> None:
    """The loader claims YAML 1.2 (only true/false are booleans, dates stay strings), yet
    keeps YAML 1.1's int resolver: a payload's ``at: 10:30`` is sent as 630 (base-60),
    ``code: 010`` as 8 (octal), and ``timeout: 1:30`` is taken as 90 seconds, all
    silently. YAML 1.2's core schema reads ``10:30`` as the string and ``010`` as 10.
    Right: a YAML 1.2 int/float resolver in _Yaml12Loader (core/dsl/load.py)."""
    text = (
        "name: w\nsteps:\n  - {id: a, type: lambda, function: f, payload: {at: 10:30, code: 010}}\n"
    )
    payload = load_definition(text).steps[0].payload
    assert payload == {"at": "10:30", "code": 10}, payload


# ---- 4. references nobody checks at push ------------------------------------------------


def test_a_param_validate_reading_an_unknown_param_is_refused_at_push() -> None:
    """docs: "References are checked when the workflow is validated or pushed: an unknown
    name, param ..." A param's ``validate`` is checked only for its roots (value,
    params): ``params.nope`` passes push, and every run of the workflow is refused at
    start ("validate could not be evaluated"). Right: check ``params.<name>`` against
    the declared params, as templates do (models.ParamValidation / dsl.expressions)."""
    definition = {
        "name": "w",
        "params": {"n": {"type": "int", "default": 1, "validate": "value > params.nope"}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    issues = issues_of(definition)
    assert any(p.startswith("params.n") and "nope" in m for p, m in issues), said(issues)


@pytest.mark.parametrize(
    "condition",
    ["params.limit > 1", "event.signals.costs.params.rows > 1"],
    ids=["reads-params", "reads-a-signal-not-in-names"],
)
def test_a_signal_trigger_condition_reads_only_event_and_its_own_signals(condition: str) -> None:
    """A signal trigger's ``condition`` sees ``event`` only (docs: "What expressions may
    read"), and ``event.signals`` holds the trigger's ``names``. The condition is only
    compiled and shape-checked: ``params.limit`` or a signal not in ``names`` passes
    push, and then every set fails the condition (the trigger never starts a run). The
    trigger's ``params`` templates are checked ("unknown name 'params'; use event");
    the condition should be too (core/dsl/triggers.py SignalSource / dsl.expressions)."""
    definition = {
        "name": "w",
        "params": {"limit": {"type": "int", "default": 1}},
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [{"signal": {"names": ["sales"], "condition": condition}}],
    }
    issues = issues_of(definition)
    assert any(p.startswith("triggers[0]") for p, _ in issues), said(issues)


def test_a_retry_condition_reading_a_field_error_does_not_have_is_refused() -> None:
    """A retrier's ``when`` may read error.type, error.message and error.attempt (the
    message of check_condition says so), but only the root is checked: ``error.atempt``
    (a typo) passes push, fails to evaluate on every failure, and ``_holds`` takes that
    as false: the retrier silently never retries. Right: refuse a field of ``error``
    other than type/message/attempt at push (core/engine/retry.check_condition)."""
    definition = {
        "name": "w",
        "steps": [
            {"id": "a", "type": "noop", "retry": [{"when": "error.atempt < 3"}]},
        ],
    }
    issues = issues_of(definition)
    assert any(p == "steps[0].retry[0].when" and "atempt" in m for p, m in issues), said(issues)


# ---- 5. literal emit params that no send accepts --------------------------------------


@pytest.mark.parametrize(
    "params",
    [{"ratio": 1.5}, {"days": ["a"]}, {"bad name": 1}, {f"p{i}": i for i in range(21)}],
    ids=["float", "list", "name", "21-params"],
)
def test_an_emit_with_literal_params_a_signal_cannot_have_is_refused_at_push(
    params: dict[str, Any],
) -> None:
    """Signal params are strings and int64s, named like identifiers, at most 20. An
    ``emit`` whose literal params break these rules is stored, and then refused on every
    send; an emit's refusal is only logged ("emit 0 of ... refused"), so the signal is
    silently never sent and the steps and triggers waiting for it wait forever. A
    ``wait_for`` match is checked at push the same way; an emit's literals should be too
    (core/dsl/signals.py SignalEmit / check_emits, with engine.signals._param_issues)."""
    definition = {
        "name": "w",
        "steps": [{"id": "a", "type": "noop", "emit": [{"signal": "ready", "params": params}]}],
    }
    issues = issues_of(definition)
    assert any(p.startswith("steps[0].emit") for p, _ in issues), said(issues)


# ---- 6. error messages with pydantic's internals ----------------------------------------


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("name: w\nsteps: [{id: a, type: noop}]\nparams: {1: {type: int}}\n", "params.1"),
        ("name: w\nsteps: [{id: a, type: noop}]\ntags: {1: b}\n", "tags.1"),
    ],
    ids=["param-name", "tag-key"],
)
def test_a_yaml_key_that_is_not_a_string_is_named_where_it_is(text: str, place: str) -> None:
    """YAML reads ``1:`` as an int key. The error comes out as
    ``params[1].[key]: Input should be a valid string`` (``tags[1].[key]``; a ``null:``
    key gives ``params.None.[key]``): pydantic's ``[key]`` marker in the path, the key
    shown as a list index, and pydantic's words. Right: ``params.1: a name is text;
    quote it ('1')`` (core/dsl/load.py _issue_from)."""
    issues = issues_of(text)
    assert issues and all("[key]" not in p for p, _ in issues), said(issues)
    assert any(p == place for p, _ in issues), said(issues)
    assert all("Input should be" not in m for _, m in issues), said(issues)


@pytest.mark.parametrize(
    ("steps", "params"),
    [
        (
            [
                {"id": "b", "type": "noop"},
                {"id": "a", "type": "noop", "depends_on": [{"stp": "b"}]},
            ],
            {},
        ),
        ([{"id": "a", "type": "noop", "concurrency": 5}], {}),
        ([{"id": "a", "type": "noop"}], {"day": "string"}),
    ],
    ids=["edge-typo", "concurrency-number", "param-shorthand"],
)
def test_errors_do_not_name_pydantic_model_classes(
    steps: list[dict[str, Any]], params: dict[str, Any]
) -> None:
    """A typo in a ``{step, when}`` edge gives three issues, two of them at
    ``steps[1].depends_on[0].Edge.step`` / ``.Edge.stp`` (a class name in the path) and
    one saying the map "should be a valid string"; ``concurrency: 5`` says "Input should
    be a valid dictionary or instance of Concurrency"; ``params: {day: string}`` "...
    instance of ParamSpec". Right: paths the user wrote and the shape to write
    (``{key: K, limit: N}``, ``{type: string}``), without model names
    (core/dsl/load.py _issue_from / _without_union_noise)."""
    definition: dict[str, Any] = {"name": "w", "steps": steps}
    if params:
        definition["params"] = params
    issues = issues_of(json.dumps(definition))
    for path, message in issues:
        for model in ("Edge", "Concurrency", "ParamSpec"):
            assert model not in path and model not in message, said(issues)
        assert "Input should be a valid" not in message, said(issues)


# ---- 7. also noted by the review (not in its findings above) ----------------------------


@pytest.mark.parametrize("jitter", ["abc", 5], ids=["not-a-duration", "out-of-range"])
def test_a_bad_trigger_jitter_is_named_at_its_field(jitter: object) -> None:
    """A bad ``jitter`` was refused at ``triggers[0]`` (the trigger's model check), so the
    message did not say which field; it names ``triggers[0].jitter`` now."""
    definition = {
        "name": "w",
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [{"cron": "@daily", "jitter": jitter}],
    }
    issues = issues_of(definition)
    assert [p for p, _ in issues] == ["triggers[0].jitter"], said(issues)


@pytest.mark.parametrize("where", ["wait_for", "trigger"])
def test_a_match_on_more_params_than_a_signal_has_is_refused_at_push(where: str) -> None:
    """A signal has at most 20 params, so a match on 21 never matches: the step waits out
    its timeout (the trigger never fires). Refused at push, naming the match."""
    match = {f"p{i}": i for i in range(21)}
    definition: dict[str, Any] = {"name": "w", "steps": [{"id": "a", "type": "noop"}]}
    if where == "wait_for":
        definition["steps"][0]["wait_for"] = [{"signal": "s", "match": match}]
        place = "steps[0].wait_for[0].match"
    else:
        definition["triggers"] = [{"signal": {"names": ["s"], "match": {"s": match}}}]
        place = "triggers[0].signal"
    issues = issues_of(definition)
    assert any(p == place and "20" in m for p, m in issues), said(issues)
