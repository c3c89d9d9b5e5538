"""core.expr.json_values: rendered values as JSON, in the forms templates print."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from podium.core.expr import ExpressionError, compile_template
from podium.core.expr.json_values import NotJsonError, to_json_value


def rendered(expr: str) -> Any:
    return compile_template("${" + expr + "}").render({})


def interpolated(expr: str) -> Any:
    """What a template prints for the value inside a list: compact JSON."""
    return json.loads(compile_template("${[" + expr + "]}x").render({})[:-1])[0]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("timestamp('2024-05-01T10:00:00Z')", "2024-05-01T10:00:00Z"),
        ("timestamp('2024-05-01T10:00:00.5+02:00')", "2024-05-01T08:00:00.5Z"),
        ("duration('90m')", "5400s"),
        ("duration('1.5s')", "1.5s"),
        ("duration('-1ms')", "-0.001s"),
        ("duration('1000000s')", "1000000s"),
        ("b'ab'", "YWI="),
        ("b'\\xff'", "/w=="),
        ("type(1)", "int"),
        ("1u", 1),
    ],
)
def test_a_rendered_value_takes_the_form_a_template_prints(expr: str, expected: Any) -> None:
    value = rendered(expr)
    assert to_json_value(value) == expected
    assert to_json_value(value) == interpolated(expr)  # one form, wherever it goes


def test_python_values_take_the_same_forms() -> None:
    value = {
        "naive": datetime(2024, 5, 1, 10),  # naive is UTC, as to_cel takes it
        "paris": datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        "micros": datetime(2024, 5, 1, 10, 0, 0, 250, tzinfo=UTC),
        "span": timedelta(days=1, microseconds=1),
        "raw": bytearray(b"ab"),
        "pair": (1, "a"),
        "dec": [Decimal("3"), Decimal("0.5")],
        "keys": {2: "two", True: "yes"},
    }
    assert to_json_value(value) == {
        "naive": "2024-05-01T10:00:00Z",
        "paris": "2024-05-01T10:00:00Z",
        "micros": "2024-05-01T10:00:00.00025Z",
        "span": "86400.000001s",
        "raw": "YWI=",
        "pair": [1, "a"],
        "dec": [3, 0.5],
        "keys": {"2": "two", "true": "yes"},  # as a template prints CEL's int/bool keys
    }


def test_json_data_is_returned_as_it_is() -> None:
    value = {"a": [1, 2.5, {"b": "c", "d": None, "e": True}], "f": []}
    assert to_json_value(value) is value
    mixed = {"same": [1, 2], "t": datetime(2024, 5, 1, tzinfo=UTC)}
    out = to_json_value(mixed)
    assert out["same"] is mixed["same"] and mixed["t"] == datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "where", "named"),
    [
        ({"start": float("nan")}, "payload", "NaN at payload.start has no JSON form"),
        ({"a": [1, float("inf")]}, "state", "Infinity at state.a[1] has no JSON form"),
        ({"a": {2: float("-inf")}}, "over", "-Infinity at over.a.2 has no JSON form"),
        ({"payload": {"x": float("nan")}}, "", "NaN at payload.x has no JSON form"),
        ([{"x": object()}], "over", "a value of type object at over[0].x has no JSON form"),
        ({"m": {1: "a", "1": "b"}}, "v", "the map key '1' at v.m appears twice"),
        (Decimal("NaN"), "value", "NaN at value has no JSON form"),
    ],
)
def test_a_value_with_no_json_form_is_refused_naming_where(
    value: Any, where: str, named: str
) -> None:
    with pytest.raises(NotJsonError) as caught:
        to_json_value(value, where)
    assert caught.value.message.startswith(named)
    assert isinstance(caught.value, ExpressionError)  # the definition's fault: not retried


def test_nan_from_an_expression_is_refused() -> None:
    with pytest.raises(NotJsonError, match=r"NaN at payload\.ratio has no JSON form: use null"):
        to_json_value({"ratio": rendered("0.0/0.0")}, "payload")
