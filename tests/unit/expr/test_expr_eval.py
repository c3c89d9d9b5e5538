"""Evaluation semantics: arithmetic, comparisons, logic, collections, macros, strings."""

from __future__ import annotations

import math

import pytest

from podium.core.expr import (
    EvaluationError,
    ExpressionError,
    ExpressionTypeError,
    UnknownNameError,
    compile_expression,
)
from podium.core.expr.values import UInt


def ev(source: str, **bindings: object) -> object:
    return compile_expression(source).evaluate_cel(bindings)


def fails(source: str, fragment: str = "", **bindings: object) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        ev(source, **bindings)
    assert fragment in info.value.message
    return info.value


class TestArithmetic:
    def test_int(self) -> None:
        assert ev("7 / 2") == 3
        assert ev("-7 / 2") == -3  # truncates toward zero
        assert ev("-7 % 3") == -1  # sign follows the dividend
        assert ev("7 % -3") == 1

    def test_int_overflow_and_division_errors(self) -> None:
        fails("9223372036854775807 + 1", "int overflow")
        fails("-9223372036854775808 - 1", "int overflow")
        fails("-(-9223372036854775808)", "int overflow")
        fails("(-9223372036854775808) / -1", "int overflow")
        fails("5000000000 * 5000000000", "int overflow")
        fails("1 / 0", "divide by zero")
        fails("1 % 0", "modulus by zero")

    def test_uint(self) -> None:
        assert ev("3u + 4u") == 7 and type(ev("3u + 4u")) is UInt
        fails("0u - 1u", "uint overflow")
        fails("18446744073709551615u + 1u", "uint overflow")
        fails("1u / 0u", "divide by zero")

    def test_double(self) -> None:
        assert ev("1.0 / 0.0") == math.inf
        assert ev("-1.0 / 0.0") == -math.inf
        assert math.isnan(ev("0.0 / 0.0"))  # type: ignore[arg-type]
        assert ev("0.1 + 0.2") == 0.1 + 0.2

    def test_no_implicit_numeric_conversion(self) -> None:
        err = fails("1 + 1u", "no matching overload for _+_(int, uint)")
        assert isinstance(err, ExpressionTypeError)
        fails("1 + 1.0", "no matching overload")
        fails("true + 1", "no matching overload")

    def test_string_bytes_and_list_concatenation(self) -> None:
        assert ev("'a' + 'b'") == "ab"
        assert ev("b'a' + b'b'") == b"ab"
        assert ev("[1] + [2, 3]") == [1, 2, 3]
        fails("'a' + 1", "no matching overload")


class TestComparisons:
    def test_heterogeneous_numeric_equality(self) -> None:
        assert ev("1 == 1.0") is True
        assert ev("1u == 1") is True
        assert ev("[1, 2u] == [1.0, 2]") is True
        assert ev("{1: 'a'} == {1u: 'a'}") is True

    def test_cross_type_equality_is_false_not_an_error(self) -> None:
        assert ev("1 == '1'") is False
        assert ev("null == false") is False
        assert ev("[true] == [1]") is False
        assert ev("{'a': true} == {'a': 1}") is False

    def test_nan_is_not_equal_to_itself(self) -> None:
        assert ev("0.0/0.0 == 0.0/0.0") is False
        assert ev("0.0/0.0 != 0.0/0.0") is True

    def test_ordering(self) -> None:
        assert ev("1 < 2u") is True
        assert ev("-1 < 0u") is True
        assert ev("2.5 > 2") is True
        assert ev("'a' < 'b'") is True
        assert ev("b'a' < b'b'") is True
        assert ev("false < true") is True
        fails("[1] < [2]", "no matching overload")
        fails("'a' < 1", "no matching overload")
        fails("null < null", "no matching overload")

    def test_in(self) -> None:
        assert ev("2 in [1, 2]") is True
        assert ev("2.0 in [1, 2]") is True
        assert ev("'a' in {'a': 1}") is True
        assert ev("3 in {3u: 1}") is True
        assert ev("'x' in [1, true]") is False
        assert ev("true in [1]") is False


class TestLogic:
    def test_short_circuit_absorbs_errors_in_either_order(self) -> None:
        assert ev("false && 1/0 == 1") is False
        assert ev("1/0 == 1 && false") is False
        assert ev("true || 1/0 == 1") is True
        assert ev("1/0 == 1 || true") is True
        assert ev("missing.x || true") is True

    def test_errors_surface_when_nothing_decides(self) -> None:
        fails("1/0 == 1 && true", "divide by zero")
        fails("false || 1/0 == 1", "divide by zero")
        fails("'x' && true", "no matching overload")

    def test_non_bool_operands_absorbed_by_decisive_value(self) -> None:
        assert ev("false && 32") is False
        assert ev("'horses' || true") is True

    def test_conditional(self) -> None:
        assert ev("x > 1 ? 'big' : 'small'", x=3) == "big"
        assert ev("true ? 1 : 1/0") == 1
        fails("'x' ? 1 : 2", "no matching overload")

    def test_not(self) -> None:
        assert ev("!false") is True
        fails("!1", "no matching overload")


class TestCollections:
    def test_index_and_select(self) -> None:
        assert ev("[7, 8, 9][1]") == 8
        assert ev("[7, 8, 9][1u]") == 8
        assert ev("[7, 8, 9][1.0]") == 8
        fails("[1][1]", "index out of bounds")
        fails("[1][-1]", "index out of bounds")
        fails("[1][true]", "invalid list index")
        assert ev("m.a.b", m={"a": {"b": 3}}) == 3
        assert ev("m['a']", m={"a": 1}) == 1
        fails("m.c", "no such key: 'c'", m={"a": 1})
        fails("[1].a", "does not support field selection")

    def test_map_keys(self) -> None:
        assert ev("{true: 1, 1: 2}[true]") == 1
        assert ev("{true: 1, 1: 2}[1]") == 2
        assert ev("{1u: 'x'}[1.0]") == "x"
        fails("{1u: 'x'}[1.5]", "no such key")
        fails("{0: 1, 0u: 2}", "repeated map key")
        fails("{1.5: 1}", "unsupported map key type")
        fails("{[1]: 1}", "unsupported map key type")

    def test_has(self) -> None:
        assert ev("has(m.a)", m={"a": None}) is True
        assert ev("has(m.b)", m={"a": 1}) is False
        assert ev("has(m.a.b)", m={"a": {"b": 1}}) is True
        fails("has(m.a.b)", "has() cannot test", m={"a": 1})

    def test_size(self) -> None:
        assert ev("size('héllo')") == 5
        assert ev("'héllo'.size()") == 5
        assert ev("size(b'ab')") == 2
        assert ev("size([1, 2]) + size({'a': 1})") == 3
        fails("size(1)", "no matching overload")

    def test_type_values(self) -> None:
        assert ev("type(1) == int") is True
        assert ev("type(1u) == uint && type(1.0) == double") is True
        assert ev("type([]) == list && type({}) == map && type(null) == null_type") is True
        assert ev("type(type(1)) == type") is True
        assert ev("type(timestamp('2024-01-01T00:00:00Z'))").name == "google.protobuf.Timestamp"  # type: ignore[attr-defined]
        fails("dyn", "unknown variable 'dyn'")


class TestMacros:
    def test_all_exists(self) -> None:
        assert ev("[1, 2, 3].all(x, x > 0)") is True
        assert ev("[1, 2, 3].exists(x, x == 2)") is True
        assert ev("[].all(x, false)") is True
        assert ev("[].exists(x, true)") is False
        assert ev("{'a': 1, 'b': 2}.all(k, k in ['a', 'b'])") is True

    def test_all_absorbs_errors_when_decided(self) -> None:
        assert ev("[0, 1].all(x, 1 / x > 5)") is False
        assert ev("[0, 1].exists(x, 1 / x == 1)") is True
        fails("[0, 1].all(x, 1 / x > 0)", "divide by zero")

    def test_exists_one(self) -> None:
        assert ev("[1, 2, 3].exists_one(x, x > 2)") is True
        assert ev("[1, 2, 3].exists_one(x, x > 1)") is False
        assert ev("[1, 2].existsOne(i, v, i == 1)") is True

    def test_map_and_filter(self) -> None:
        assert ev("[1, 2, 3].map(x, x * 10)") == [10, 20, 30]
        assert ev("[1, 2, 3].map(x, x > 1, x * 10)") == [20, 30]
        assert ev("[1, 2, 3, 4].filter(x, x % 2 == 0)") == [2, 4]
        assert ev("{'a': 1, 'b': 2}.map(k, k)") == ["a", "b"]
        assert ev("{'a': 1, 'b': 2}.filter(k, k == 'b')") == ["b"]
        fails("[1, 0].map(x, 1 / x)", "divide by zero")
        fails("'abc'.map(x, x)", "no matching overload")
        fails("[1].filter(x, 1)", "no matching overload")

    def test_two_variable_forms(self) -> None:
        assert ev("[5, 6].all(i, v, v == i + 5)") is True
        assert ev("{'a': 1}.exists(k, v, k == 'a' && v == 1)") is True
        assert ev("[2, 4].transformList(i, v, v * i)") == [0, 4]
        assert ev("[2, 4, 6].transformList(i, v, i > 0, v)") == [4, 6]
        assert ev("{'a': 1, 'b': 2}.transformMap(k, v, v * 10)") == {"a": 10, "b": 20}
        assert ev("[7, 8].transformMap(i, v, v)") == {0: 7, 1: 8}
        assert ev("{'a': 1}.transformMapEntry(k, v, {v: k})") == {1: "a"}

    def test_nested_comprehensions_and_shadowing(self) -> None:
        assert ev("[1, 2].map(x, [10, 20].map(y, x + y))") == [[11, 21], [12, 22]]
        assert ev("[1, 2].map(x, [10].map(x, x))") == [[10], [10]]
        assert ev("x + [1].map(x, x)[0]", x=5) == 6

    def test_variables_bound_inside_comprehension_shadow_bindings(self) -> None:
        assert ev(
            "rows.filter(r, r.ok).map(r, r.id)",
            rows=[{"id": 1, "ok": True}, {"id": 2, "ok": False}],
        ) == [1]


class TestStrings:
    def test_string_functions(self) -> None:
        assert ev("'foobar'.contains('oba')") is True
        assert ev("'foobar'.startsWith('foo')") is True
        assert ev("'foobar'.endsWith('bar')") is True
        fails("'a'.contains(1)", "no matching overload")

    def test_matches_uses_re2(self) -> None:
        assert ev("'hubba'.matches('ubb')") is True
        assert ev("matches('abc', '^a.c$')") is True
        assert ev("s.matches(p)", s="2024-01-02", p=r"^\d{4}-\d{2}-\d{2}$") is True
        # Catastrophic for backtracking engines, linear for RE2.
        assert ev("s.matches('(a+)+$')", s="a" * 5000 + "!") is False
        fails("'a'.matches(p)", "invalid regular expression", p="[")
        with pytest.raises(ExpressionError):
            compile_expression("'a'.matches('(')")


class TestConversions:
    @pytest.mark.parametrize(
        ("source", "expected"),
        [
            ("int('42')", 42),
            ("int(-3.9)", -3),
            ("int(42u)", 42),
            ("uint(42)", 42),
            ("double(3)", 3.0),
            ("double('2.5')", 2.5),
            ("string(12)", "12"),
            ("string(1.5)", "1.5"),
            ("string(1e6)", "1e+06"),
            ("string(123456.0)", "123456"),
            ("string(0.0001)", "0.0001"),
            ("string(true)", "true"),
            ("string(b'hi')", "hi"),
            ("bytes('hé')", "hé".encode()),
            ("bool('True')", True),
            ("bool('f')", False),
            ("dyn(1) == 1", True),
        ],
    )
    def test_conversions(self, source: str, expected: object) -> None:
        value = ev(source)
        assert value == expected
        assert type(value) is type(expected) or isinstance(expected, int)

    @pytest.mark.parametrize(
        "source",
        [
            "int('1.5')",
            "int('99999999999999999999')",
            "int(1e19)",
            "uint(-1)",
            "uint(-0.5)",
            "double('1_000')",
            "bool('yes')",
            "string(b'\\xff')",
            "int(true)",
        ],
    )
    def test_conversion_errors(self, source: str) -> None:
        with pytest.raises(ExpressionError):
            ev(source)


class TestNames:
    def test_unknown_variable_is_a_runtime_error(self) -> None:
        err = fails("nope + 1", "unknown variable 'nope'")
        assert isinstance(err, UnknownNameError)
        assert err.position == 0

    def test_qualified_names_prefer_the_longest_binding(self) -> None:
        bindings = {"a.b.c": "long", "a.b": {"c": "short"}}
        assert compile_expression("a.b.c").evaluate_cel(bindings) == "long"
        assert compile_expression("a.b.c").evaluate_cel({"a.b": {"c": "x"}}) == "x"

    def test_unknown_functions_fail_at_compile_time_when_checked(self) -> None:
        with pytest.raises(UnknownNameError) as info:
            compile_expression("x.startswith('a')")
        assert "did you mean 'startsWith'" in info.value.message
        with pytest.raises(ExpressionTypeError):
            compile_expression("size(1, 2)")

    def test_unchecked_mode_defers_unknown_functions(self) -> None:
        compiled = compile_expression("f(1) || true", checked=False)
        assert compiled.evaluate() is True
        with pytest.raises(UnknownNameError):
            compile_expression("f(1)", checked=False).evaluate()

    def test_error_positions_point_at_the_operator(self) -> None:
        err = fails("1 + 2 / 0", "divide by zero")
        assert err.column == 7
        assert isinstance(err, EvaluationError)
