"""The public API the engine relies on: caching, references, conversions, errors, limits."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

import pytest

from podium.core.expr import (
    CompiledExpression,
    EvaluationError,
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    LimitExceededError,
    Limits,
    UnknownNameError,
    compile_expression,
    from_cel,
    to_cel,
)
from podium.core.expr.values import BoolKey, Duration, Timestamp, UInt


def test_compile_is_cached_by_source() -> None:
    a = compile_expression("params.x > 3")
    assert isinstance(a, CompiledExpression)
    assert compile_expression("params.x > 3") is a
    assert compile_expression("params.x > 3", Limits(max_cost=10)) is not a
    assert a.source == "params.x > 3"


@pytest.mark.parametrize(
    ("source", "references"),
    [
        ("params.x > 3 && size(steps.a.output.rows) > 0", {"params.x", "steps.a.output.rows"}),
        ("params.items[0].name", {"params.items"}),
        ("steps.a.output.rows.size()", {"steps.a.output.rows"}),
        ("rows.filter(r, r.ok && r.n > params.min).map(r, r.id)", {"rows", "params.min"}),
        ("[1, 2].all(x, x > 0)", set()),
        ("has(params.optional)", {"params.optional"}),
        ("type(x) == int", {"x"}),
        ("iteration.index + 1", {"iteration.index"}),
        ("podium.format(run.logical_date, '%Y')", {"run.logical_date"}),
        ("m[k].v", {"m", "k"}),
        ("{'a': x}.a", {"x"}),
    ],
)
def test_references(source: str, references: set[str]) -> None:
    assert compile_expression(source).references == references


def test_evaluate_takes_and_returns_plain_python() -> None:
    compiled = compile_expression("[params.n + 1, 2u, 1.5, b'x', params.when, params.wait, int]")
    when = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    result = compiled.evaluate({"params": {"n": 1, "when": when, "wait": timedelta(seconds=3)}})
    assert result == [2, 2, 1.5, b"x", when, timedelta(seconds=3), "int"]
    assert type(result[1]) is int


def test_bindings_are_not_mutated_and_only_reachable_parts_are_converted() -> None:
    bindings = {"params": {"x": (1, 2), "other": object()}, "steps": {"bad": object()}}
    assert compile_expression("params.x[1]").evaluate(bindings) == 2
    assert bindings["params"]["x"] == (1, 2)
    with pytest.raises(ExpressionTypeError, match="unsupported binding value"):
        compile_expression("params.other").evaluate(bindings)
    with pytest.raises(ExpressionTypeError, match="unsupported binding value"):
        compile_expression("params == {}").evaluate(bindings)
    # size() and has() never look inside, so the contents are not converted at all.
    assert compile_expression("size(params) + size(steps)").evaluate(bindings) == 3
    assert compile_expression("has(steps.bad)").evaluate(bindings) is True


def test_python_objects_are_never_reachable() -> None:
    class Secret:
        password = "hunter2"

    with pytest.raises(ExpressionError):
        compile_expression("x.password").evaluate({"x": Secret()})
    with pytest.raises(ExpressionError):
        compile_expression("x.__class__").evaluate({"x": {}})


def test_to_cel_and_from_cel() -> None:
    class Color(Enum):
        RED = "red"

    value = {
        "a": (1, Decimal("2"), Decimal("2.5")),
        "b": Color.RED,
        "c": 2**70,
        "d": {True: 1, 2: "x"},
        "e": datetime(2024, 1, 1, tzinfo=UTC),
    }
    cel = to_cel(value)
    assert cel["a"] == [1, 2, 2.5]
    assert cel["b"] == "red"
    assert cel["c"] == float(2**70)
    keys = list(cel["d"])
    assert isinstance(keys[0], BoolKey) and keys[0].value is True and keys[1] == 2
    assert isinstance(cel["e"], Timestamp)
    back = from_cel(cel)
    assert back["d"] == {True: 1, 2: "x"}
    assert back["e"] == datetime(2024, 1, 1, tzinfo=UTC)
    plain = {"x": [1, "a", None, 1.5, {"y": True}]}
    assert to_cel(plain) is plain  # nothing to convert: no copy
    assert from_cel(UInt(3)) == 3 and type(from_cel(UInt(3))) is int
    assert from_cel(Duration(1500)) == timedelta(microseconds=1)


def test_to_cel_rejects_deep_and_odd_values() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(200):
        child: list[object] = []
        node.append(child)
        node = child
    with pytest.raises(LimitExceededError, match="nested too deeply"):
        to_cel(deep)
    with pytest.raises(ExpressionTypeError, match=r"at \.a\[1\]"):
        to_cel({"a": [1, object()]})
    with pytest.raises(ExpressionTypeError, match="too large"):
        to_cel(10**400)


def test_evaluate_cel_uses_raw_values() -> None:
    compiled = compile_expression("x + 1u")
    value = compiled.evaluate_cel({"x": UInt(1)})
    assert value == 2 and type(value) is UInt


def test_error_classes_and_kinds() -> None:
    cases: list[tuple[str, type[ExpressionError], str]] = [
        ("1 +", ExpressionSyntaxError, "syntax"),
        ("nope(1)", UnknownNameError, "unknown_name"),
        ("1 + 'a'", ExpressionTypeError, "type"),
        ("1 / 0", EvaluationError, "runtime"),
    ]
    for source, cls, kind in cases:
        with pytest.raises(cls) as info:
            compile_expression(source).evaluate()
        assert info.value.kind == kind
        assert info.value.position is not None
        assert info.value.source == source


def test_errors_pickle_with_their_position() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("1 / 0").evaluate()
    clone = pickle.loads(pickle.dumps(info.value))
    assert (clone.message, clone.position, clone.line, clone.column) == (
        "divide by zero",
        2,
        1,
        3,
    )
    assert str(clone) == str(info.value)


def test_non_string_source_is_rejected() -> None:
    with pytest.raises(ExpressionTypeError):
        compile_expression(42)  # type: ignore[arg-type]


def test_limits_validate_themselves() -> None:
    with pytest.raises(ValueError):
        Limits(max_cost=0)
    with pytest.raises(ValueError):
        Limits(max_depth=True)


def test_cost_budget_stops_runaway_comprehensions() -> None:
    source = (
        "[1,2,3,4,5,6,7,8,9,10].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, "
        "[1,2,3,4,5,6,7,8,9,10].map(c, a + b + c)))"
    )
    assert len(compile_expression(source).evaluate()) == 10
    with pytest.raises(LimitExceededError, match="cost limit") as info:
        compile_expression(source, Limits(max_cost=500)).evaluate()
    assert info.value.position is not None


def test_size_limits() -> None:
    limits = Limits(max_string_length=10, max_list_size=5)
    with pytest.raises(LimitExceededError, match="string too large"):
        compile_expression("'abcdef' + 'ghijkl'", limits).evaluate()
    with pytest.raises(LimitExceededError, match="list too large"):
        compile_expression("[1, 2, 3] + [4, 5, 6]", limits).evaluate()
    with pytest.raises(LimitExceededError, match="list too large"):
        compile_expression("x.map(i, i)", limits).evaluate({"x": list(range(6))})
    with pytest.raises(LimitExceededError, match="regular expression too long"):
        compile_expression("'a'.matches(p)", Limits(max_regex_length=3)).evaluate({"p": "aaaa"})


def test_result_materialisation_is_budgeted() -> None:
    # Each level doubles the result without copying: 2**15 lists to turn into Python.
    shared = "[1, 2]"
    for _ in range(15):
        shared = f"[{shared}].map(s, [s, s])[0]"
    with pytest.raises(LimitExceededError):
        compile_expression(shared, Limits(max_cost=10_000)).evaluate()
    assert len(compile_expression(shared).evaluate()) == 2


def test_evaluate_cel_and_evaluate_agree_on_scalars() -> None:
    compiled = compile_expression("x * 2")
    assert compiled.evaluate({"x": 21}) == compiled.evaluate_cel({"x": 21}) == 42


def test_a_map_keyed_by_true_and_1_keeps_both_keys() -> None:
    """In CEL true and 1 are two keys; as Python dict keys they are one, so the result
    lost one ({"1": "y"}). Both are kept, keyed as JSON writes them."""

    def _eval(source: str, bindings: dict[str, object]) -> object:
        return compile_expression(source).evaluate(bindings)

    assert _eval("{1: 'x', true: 'y', 'm': {false: 1, 0: 2}}", {}) == {
        "1": "x",
        "true": "y",
        "m": {"false": 1, "0": 2},
    }
    assert _eval("{1: 'x', true: 'y'}[true]", {}) == "y"
    assert _eval("{1: 'x', 2: 'y'}", {}) == {1: "x", 2: "y"}  # no clash: keys as they are
    assert _eval("{true: 'y'}", {}) == {True: "y"}
