"""`${...}` templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podium.core.expr import (
    CompiledTemplate,
    ExpressionError,
    ExpressionSyntaxError,
    LimitExceededError,
    Limits,
    UnknownNameError,
    compile_template,
)

BINDINGS = {
    "params": {"region": "eu-west-1", "tables": ["a", "b"], "n": 3, "ratio": 0.5},
    "run": {"logical_date": "2024-05-01", "id": "r-1"},
}


def test_static_templates() -> None:
    tpl = compile_template("s3://bucket/fixed.csv")
    assert isinstance(tpl, CompiledTemplate)
    assert tpl.is_static
    assert tpl.references == frozenset()
    assert tpl.render() == "s3://bucket/fixed.csv"
    assert compile_template("cost: $5 and $${literal}").render() == "cost: $5 and ${literal}"
    assert compile_template("cost: $${x}").is_static


def test_interpolation_and_references() -> None:
    tpl = compile_template("s3://bucket/${params.region}/${run.logical_date}.csv")
    assert not tpl.is_static
    assert tpl.references == {"params.region", "run.logical_date"}
    assert tpl.render(BINDINGS) == "s3://bucket/eu-west-1/2024-05-01.csv"
    assert compile_template("s3://bucket/${params.region}").source.startswith("s3://")


def test_a_lone_expression_keeps_its_type() -> None:
    assert compile_template("${params.tables}").render(BINDINGS) == ["a", "b"]
    assert compile_template("${params.n * 2}").render(BINDINGS) == 6
    assert compile_template(" ${params.n}").render(BINDINGS) == " 3"


def test_values_are_rendered_as_text() -> None:
    tpl = compile_template(
        "${params.n}|${params.ratio}|${true}|${null}|${params.tables}|${{'k': 1u}}|${2u}"
    )
    assert tpl.render(BINDINGS) == '3|0.5|true|null|["a","b"]|{"k":1}|2'
    when = datetime(2024, 5, 1, 6, tzinfo=UTC)
    assert compile_template("t=${t}").render({"t": when}) == "t=2024-05-01T06:00:00Z"
    assert compile_template("d=${duration('90s')}").render() == "d=90s"


def test_braces_and_quotes_inside_expressions() -> None:
    assert compile_template("${ {'a': '}'}.a }!").render() == "}!"
    assert compile_template("${'${'}").render() == "${"
    assert compile_template("x${ \"a}b\" + r'}' }y").render() == "xa}b}y"
    assert compile_template("${[1, 2].map(x, {'v': x}).size()}").render() == 2


def test_errors_point_into_the_template() -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        compile_template("prefix/${params.region +}/x")
    assert info.value.source == "prefix/${params.region +}/x"
    assert info.value.column == 25
    with pytest.raises(ExpressionSyntaxError, match="unterminated") as info2:
        compile_template("a/${params.x")
    assert info2.value.column == 3
    with pytest.raises(ExpressionSyntaxError, match="empty expression"):
        compile_template("a${}b")
    with pytest.raises(UnknownNameError) as info3:
        compile_template("ab/${nope}").render({})
    assert info3.value.column == 6
    with pytest.raises(ExpressionError) as info4:
        compile_template("ab/${1/0}/cd").render({})
    assert info4.value.column == 7


def test_template_limits() -> None:
    with pytest.raises(LimitExceededError):
        compile_template("x" * 100, Limits(max_template_length=50))
    with pytest.raises(LimitExceededError):
        compile_template("${s}${s}", Limits(max_string_length=10)).render({"s": "123456"})


def test_templates_are_cached() -> None:
    assert compile_template("a/${b}") is compile_template("a/${b}")
