"""Parsing: literals, precedence, syntax errors with friendly messages and carets."""

from __future__ import annotations

import math

import pytest

from podium.core.expr import (
    ExpressionError,
    ExpressionSyntaxError,
    LimitExceededError,
    Limits,
    compile_expression,
)
from podium.core.expr.values import UInt


def ev(source: str, **bindings: object) -> object:
    return compile_expression(source).evaluate_cel(bindings)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("0x1F", 31),
        ("-0x10", -16),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775807", 2**63 - 1),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        ("true", True),
        ("false", False),
        ("null", None),
        ("'single'", "single"),
        ('"double"', "double"),
        ("'''tri\nple'''", "tri\nple"),
        ('"""a "quoted" word"""', 'a "quoted" word'),
        (r"'\n\t\\\'\"\?\`'", "\n\t\\'\"?`"),
        (r"'\x41\101\u00e9\U0001F600'", "AAé😀"),
        (r"'\ud83d\ude00'", "😀"),
        (r"r'\n\d'", "\\n\\d"),
        (r"R'''\x'''", "\\x"),
        ("b'abc'", b"abc"),
        ("b'ÿ'", b"\xc3\xbf"),
        (r"b'\377\xff'", b"\xff\xff"),
        (r"br'\x00'", b"\\x00"),
    ],
)
def test_literals(source: str, expected: object) -> None:
    value = ev(source)
    assert value == expected
    assert type(value) is type(expected)


def test_uint_literals_are_a_distinct_type() -> None:
    assert type(ev("7u")) is UInt
    assert ev("0xFFu") == 255
    assert ev("18446744073709551615u") == 2**64 - 1


def test_comments_and_whitespace_are_ignored() -> None:
    assert ev("1 + // one\n 2 // two") == 3


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("2 * 3 % 4", 2),
        ("-2 * 3", -6),
        ("!true || true", True),
        ("true || false && false", True),
        ("1 < 2 == true", True),
        ("false ? 1 : true ? 2 : 3", 2),
        ("1 + 2 in [3]", True),
        ("--5", 5),
        ("!!true", True),
        ("[1, 2, 3,][2]", 3),
        ("{'a': 1,}.a", 1),
    ],
)
def test_precedence_and_associativity(source: str, expected: object) -> None:
    assert ev(source) == expected


def test_double_special_values() -> None:
    assert math.isinf(ev("1e999"))  # type: ignore[arg-type]
    assert ev("-(0.0)") == 0.0


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("(1 + 2", "missing closing ')'", 7),
        ("f(1, 2", "missing closing ')'", 7),
        ("[1, 2", "missing closing ']'", 6),
        ("{'a': 1", "missing closing '}'", 8),
        ("{'a': [1, 2}", "missing closing ']'", 12),
        ("1 + (2 * 3", "missing closing ')'", 11),
        ("a ? b", "missing ':' in conditional", 6),
        ("1 +", "missing operand", 4),
        ("a &&", "missing operand", 5),
        ("1 + * 2", "missing operand", 5),
        ("", "empty expression", 1),
        ("1 2", "missing operator between operands", 3),
        ("a.b c", "missing operator between operands", 5),
        ("1)", "unbalanced ')'", 2),
        ("a.", "missing field name after '.'", 3),
        ("a..b", "missing field name after '.'", 3),
        ("a = 1", "'=' is not an operator", 3),
        ("a & b", "logical operators are '&&' and '||'", 3),
        ("'abc", "unterminated string literal", 1),
        ("1, 2", "unexpected ','", 2),
        ("#", "unexpected character '#'", 1),
        ("`x`", "quoted` name is only allowed after '.'", 1),
    ],
)
def test_syntax_errors_are_friendly(source: str, message: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(source)
    err = info.value
    assert message in err.message
    assert err.column == column
    assert err.kind == "syntax"
    assert err.source == source


def test_error_string_has_a_caret_under_the_problem() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("params.x >\n  (1 +")
    text = str(info.value)
    assert "line 2, column 7" in text
    assert text.splitlines()[-2:] == ["    (1 +", "        ^"]


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        (r"'\q'", "invalid escape sequence"),
        (r"b'\u0041'", "not allowed in bytes"),
        (r"'\ud800'", "unpaired surrogate"),
        (r"'\U00110000'", "invalid code point"),
        ("9223372036854775808", "out of int64 range"),
        ("18446744073709551616u", "out of uint64 range"),
        ("while", "reserved word"),
        ("if(1)", "reserved word"),
        ("x.all(1, y)", "simple variable name"),
        ("x.map(a, a, b, c)", "wrong arguments for map()"),
        ("x.all(a, a, true)", "two different variable names"),
        ("has(x)", "has() needs a field selection"),
        ("has(a.b, c)", "has() takes one field selection"),
        ("-!x", "missing operand"),
    ],
)
def test_invalid_tokens_and_macros(source: str, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(source)
    assert fragment in info.value.message


def test_reserved_words_are_fine_as_field_and_method_names() -> None:
    assert ev("{'while': 1}.while") == 1
    assert compile_expression("a.if() || true", checked=False).evaluate({"a": 1}) is True


def test_escaped_field_names() -> None:
    assert ev("{'content-type': 'json'}.`content-type`") == "json"
    assert ev("has({'a.b': 1}.`a.b`)") is True


def test_length_limit() -> None:
    limits = Limits(max_length=10)
    with pytest.raises(LimitExceededError) as info:
        compile_expression("1 + 2 + 3 + 4", limits)
    assert info.value.position == 10


def test_depth_limit_points_at_the_deepest_part() -> None:
    source = "[" * 10 + "1" + "]" * 10
    with pytest.raises(LimitExceededError) as info:
        compile_expression(source, Limits(max_depth=5))
    assert "nested too deeply" in info.value.message
    assert 0 < (info.value.position or 0) <= 10
    assert compile_expression(source, Limits(max_depth=20)).evaluate() == [[[[[[[[[[1]]]]]]]]]]


def test_parentheses_do_not_count_towards_depth() -> None:
    source = "(" * 1500 + "1" + ")" * 1500
    assert compile_expression(source).evaluate() == 1


def test_long_flat_chains_compile_and_evaluate_without_recursion() -> None:
    plus = "+".join(["1"] * 2048)
    assert len(plus) < 4096
    assert compile_expression(plus).evaluate() == 2048
    assert compile_expression("-" * 3000 + "1").evaluate() == 1
    assert compile_expression("!" * 3001 + "true").evaluate() is False
    assert compile_expression(" || ".join(["false"] * 400)).evaluate() is False
    chain = "x" + ".a" * 1000
    value: dict[str, object] = {}
    for _ in range(1000):
        value = {"a": value}
    assert compile_expression(chain).evaluate_cel({"x": value}) == {}
