"""Hostile expressions: each case once hung, escaped as a non-ExpressionError, or gave
an unhelpful message (issue 9)."""

from __future__ import annotations

import time

import pytest

from podium.core.expr import (
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    LimitExceededError,
    compile_expression,
    compile_template,
)

SURROGATE = "\ud800"
DATES_1000 = (
    "podium.dateRange(timestamp('2000-01-01T00:00:00Z'), timestamp('2002-09-26T00:00:00Z'))"
)


@pytest.mark.parametrize(
    "source",
    [
        '"' + "\\" * 60,
        '"""' + "\\" * 61,
        "'" + "\\" * 61,
        'b"' + "\\" * 60,
        '"a' + "\\\\" * 30 + "\\",
        "x == " + '"' + "\\" * 400,
    ],
)
def test_unterminated_string_with_many_backslashes_fails_fast(source: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(source)
    assert time.perf_counter() - started < 0.5
    assert "unterminated string" in info.value.message


def test_escaped_quotes_and_backslashes_still_lex() -> None:
    assert compile_expression(r'"a\"b\\"').evaluate({}) == 'a"b\\'
    assert compile_expression(r"'a\'b\\'").evaluate({}) == "a'b\\"
    assert compile_expression(r'"""x\"""y"""').evaluate({}) == 'x"""y'


def test_regex_work_is_charged_to_the_cost_budget() -> None:
    text = "ab" * 100
    source = f"{DATES_1000}.filter(d, '{text}'.matches('(.{{1,20}}){{50}}z')).size()"
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match="cost limit"):
        compile_expression(source).evaluate({})
    assert time.perf_counter() - started < 1.0


def test_dynamic_regex_work_is_charged_to_the_cost_budget() -> None:
    text = "ab" * 100
    source = f"{DATES_1000}.filter(d, '{text}'.matches(d + '(.{{1,20}}){{50}}z')).size()"
    started = time.perf_counter()
    with pytest.raises(LimitExceededError, match="cost limit"):
        compile_expression(source).evaluate({})
    assert time.perf_counter() - started < 1.0


def test_cheap_regexes_stay_within_budget() -> None:
    source = f"{DATES_1000}.filter(d, d.matches('^200[01]-')).size()"
    assert compile_expression(source).evaluate({}) == 731


@pytest.mark.parametrize(
    ("source", "column"),
    [
        (f"'a{SURROGATE}'.matches('a')", 3),
        (f"'a'.matches('{SURROGATE}')", 14),
        (f"b'{SURROGATE}'", 3),
        (f"r'{SURROGATE}' + 'x'", 3),
    ],
)
def test_lone_surrogate_in_source_is_a_positioned_syntax_error(source: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(source)
    assert "lone surrogate U+D800" in info.value.message
    assert info.value.column == column


@pytest.mark.parametrize(
    "source", ["params.p.matches('a')", "'x'.matches(params.p)", "params.p.matches(params.p)"]
)
def test_lone_surrogate_in_bindings_is_an_expression_error(source: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(source).evaluate({"params": {"p": "a" + SURROGATE}})
    assert "surrogate" in info.value.message
    assert info.value.position is not None


def test_lone_surrogate_in_template_text_is_a_positioned_error() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_template(f"s3://b/{SURROGATE}/${{params.x}}")
    assert info.value.position == 7


def test_template_rendered_value_too_long_has_a_position() -> None:
    template = compile_template("prefix-${params.rows}")
    rows = ["x" * 1000] * 200
    with pytest.raises(LimitExceededError) as info:
        template.render({"params": {"rows": rows}})
    assert info.value.position == len("prefix-${")
    assert info.value.column == len("prefix-${") + 1
    assert "select the fields" in info.value.message


@pytest.mark.parametrize(
    ("source", "types"),
    [
        ("'a' >= 1", "_>=_(string, int)"),
        ("'a' > 1", "_>_(string, int)"),
        ("1 > 'a'", "_>_(int, string)"),
        ("'a' < 1", "_<_(string, int)"),
        ("'a' <= 1", "_<=_(string, int)"),
    ],
)
def test_overload_errors_name_operands_in_written_order(source: str, types: str) -> None:
    with pytest.raises(ExpressionTypeError) as info:
        compile_expression(source).evaluate({})
    assert info.value.message == f"no matching overload for {types}"


@pytest.mark.parametrize(
    ("source", "hint"),
    [("a and b", "'&&'"), ("a or b", "'||'"), ("x is null", "'=='"), ("a && not b", "'!'")],
)
def test_word_operators_get_a_hint(source: str, hint: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_expression(source)
    assert f"write {hint}" in info.value.message
