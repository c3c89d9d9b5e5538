"""Expressions written with constants only that fail whenever they are evaluated were
accepted by ``podium validate`` and a push, and failed every run that reached them
(docs/expressions.md "Errors": constant arguments and operators on literals are checked at
push, "not when the run gets there"). Found by review R33e."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, parse_document, validate_definition
from podium.core.expr import ExpressionError, compile_expression


def _document(expression: str) -> dict[str, Any]:
    return {
        "name": "consts",
        "steps": [
            {
                "id": "a",
                "type": "lambda",
                "function": "fn",
                "payload": {"x": "${" + expression + "}"},
            }
        ],
    }


def _push_issues(expression: str) -> list[Any]:
    try:
        load_definition(json.dumps(_document(expression)))
    except DefinitionError as exc:
        return list(exc.issues)
    return []


def _fails_at_run_time(expression: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(expression).evaluate({})
    return caught.value.message


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("{'a': 1, 'a': 2}", "repeated map key"),
        ("{1: 'x', 1u: 'y'}", "repeated map key"),
        ("{1.5: 'a'}", "map key"),
        ("{null: 1}", "map key"),
    ],
)
def test_a_map_literal_whose_constant_keys_always_fail_is_refused_at_push(
    expression: str, words: str
) -> None:
    """A map literal with a key written twice (docs: "duplicates are an error") or a key
    of a type a map cannot have (a double, null) passed a push, and every run failed at
    that step with "repeated map key" / "unsupported map key type": map_lit had no
    constant check."""
    assert words in _fails_at_run_time(expression)
    issues = _push_issues(expression)
    assert [i.path for i in issues] == ["steps[0].payload.x"]
    assert words in issues[0].message


def test_bool_of_a_constant_string_that_is_no_bool_is_refused_at_push_like_int() -> None:
    """``int('abc')`` was refused at push, but ``bool('maybe')`` passed and failed every
    run with "bool() type conversion error"."""
    assert _push_issues("int('abc')")
    assert "bool()" in _fails_at_run_time("bool('maybe')")
    issues = _push_issues("bool('maybe')")
    assert [i.path for i in issues] == ["steps[0].payload.x"]
    assert "bool() type conversion error" in issues[0].message


@pytest.mark.parametrize(
    "expression",
    [
        "podium.date('2024-02-30')",
        "podium.date('yesterday')",
        "podium.date('2024-02-30', 'Europe/Paris')",
        "podium.format('x', '%Y')",
        "podium.format('x', params.fmt)",
        "podium.dateRange('2024-01-01', '2024-13-01')",
    ],
)
def test_a_podium_helper_given_a_constant_date_that_is_no_date_is_refused_at_push(
    expression: str,
) -> None:
    """``timestamp('x')`` was refused at push, but the podium helpers that take the same
    text passed a push with an impossible constant date and failed every run with
    "invalid timestamp" / "invalid date": only their time zone and format arguments
    were checked."""
    document = _document(expression)
    document["params"] = {"fmt": {"type": "string", "default": "%Y"}}
    with pytest.raises(DefinitionError) as refused:
        validate_definition(document)
    assert [i.path for i in refused.value.issues] == ["steps[0].payload.x"]
    assert "invalid" in refused.value.issues[0].message


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("podium.range(0, 100001)", "podium.range would produce 100001 numbers"),
        ("size(1)", "no matching overload for size(int)"),
        ("[1][5]", "index out of bounds: 5"),
        ("{'a': [1]}.a[1]", "index out of bounds: 1"),
        ("{'a': 1}.b", "no such key: 'b'"),
        ("{'a': 1}['b']", "no such key: 'b'"),
        ("!1", "no matching overload for !_(int)"),
        ("-'a'", "no matching overload for -_(string)"),
        ("1 ? 2 : 3", "no matching overload for _?_:_(int)"),
    ],
)
def test_other_constant_calls_operators_and_lookups_that_always_fail_are_refused(
    expression: str, words: str
) -> None:
    """A call on constants (``size(1)``, ``podium.range(0, 100001)``), an operator on a
    literal (``!1``, ``1 ? 2 : 3``) or a lookup into a literal list or map
    (``[1][5]``, ``{'a': 1}.b``) that fails whenever evaluated passed a push."""
    assert words in _fails_at_run_time(expression)
    issues = _push_issues(expression)
    assert [i.path for i in issues] == ["steps[0].payload.x"]
    assert words in issues[0].message


@pytest.mark.parametrize(
    "expression",
    [
        "bool('true')",
        "size('abc')",
        "podium.date('2024-02-29')",
        "podium.dateRange('2024-01-01', '2024-01-31')",
        "podium.range(0, 10)",
        "[1, 2][1]",
        "{'a': {'b': 1}}.a.b",
        "{1: 'x', 2u: 'y', true: 'z', 'k': 0}",
        "!true ? 1 : 2",
        "true || size(1) > 0",
        "false && [1][5] == 1",
        "true ? 1 : [1][5]",
        "[1][params.i]",
        "{params.k: 1, 'k': 2}",
    ],
)
def test_constant_expressions_that_can_succeed_are_still_pushed(expression: str) -> None:
    """Guard: what succeeds, and what CEL may never evaluate or whose error it absorbs
    (either side of && and ||, a branch of ?:), and keys or indexes that are not
    constants, are still pushed."""
    document = _document(expression)
    document["params"] = {"i": {"type": "int", "default": 0}, "k": {"type": "string"}}
    validate_definition(document)


def test_a_stored_version_with_such_an_expression_still_loads() -> None:
    """Guard: the checks are push rules (core/dsl/stored.py): a version stored before
    them loads, and the expression fails where it did, at run time."""
    for expression in ("bool('maybe')", "{'a': 1, 'a': 2}", "[1][5]", "podium.date('x')"):
        validate_definition(parse_document(json.dumps(_document(expression))), stored=True)


_KEYS = st.one_of(
    st.text(alphabet="abcxyz_-. é'", min_size=0, max_size=8).map(
        lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    ),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from(["true", "false"]),
)


@settings(max_examples=40, deadline=2000, derandomize=True, database=None)
@given(key=_KEYS, other=st.integers(min_value=0, max_value=3))
def test_any_constant_key_written_twice_in_a_map_literal_is_refused_at_push(
    key: str, other: int
) -> None:
    """Property form of the map-literal case: whatever constant key was repeated, the run
    failed with "repeated map key" and the push said nothing."""
    entries = [f"{key}: 1"] + [f"'k{n}': {n}" for n in range(other)] + [f"{key}: 2"]
    expression = "{" + ", ".join(entries) + "}"
    assert "repeated map key" in _fails_at_run_time(expression)
    assert _push_issues(expression), f"{expression} was accepted at push"
