"""Safety properties of the expression language (hypothesis).

Whatever text or generated expression comes in, compiling and evaluating it either
succeeds or raises ExpressionError - never RecursionError, MemoryError, another
exception, or a hang - and runaway evaluation is stopped by the limits.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.core.expr import (
    ExpressionError,
    LimitExceededError,
    Limits,
    compile_expression,
    compile_template,
    from_cel,
    to_cel,
)

# Small limits keep every example fast while still exercising the limit paths.
SMALL = Limits(
    max_length=2000,
    max_depth=40,
    max_cost=20_000,
    max_string_length=5_000,
    max_list_size=2_000,
    max_map_size=2_000,
)
BINDINGS: dict[str, Any] = {
    "x": 3,
    "s": "abc",
    "l": [1, 2, 3],
    "m": {"a": 1, "b": [True, None]},
    "params": {"n": 5, "name": "demo", "items": ["a", "b"]},
}
# A hang fails a test: hypothesis fails an example slower than DEADLINE (generous, for a
# loaded CI machine; every example here takes milliseconds), and tests/property/conftest.py
# interrupts a test that is still running after a minute.
DEADLINE = timedelta(seconds=3)
FAST = settings(
    max_examples=150,
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def run(source: str) -> None:
    """Compile and evaluate; only ExpressionError may escape, and never a wrapped bug."""
    try:
        compile_expression(source, SMALL).evaluate(BINDINGS)
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc.message


# --- random text ----------------------------------------------------------------------

TOKENS = st.sampled_from(
    [
        "x",
        "s",
        "l",
        "m",
        "params",
        ".",
        "n",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "?",
        "+",
        "-",
        "*",
        "/",
        "%",
        "!",
        "&&",
        "||",
        "==",
        "!=",
        "<",
        ">=",
        " in ",
        "1",
        "0",
        "2u",
        "1.5",
        "'a'",
        '"b"',
        "b'c'",
        "true",
        "null",
        "size",
        "map",
        "all",
        "exists",
        "filter",
        "has",
        "int",
        "string",
        "timestamp",
        "duration",
        "matches",
        "'.*'",
        " ",
        "\n",
        "//",
        "`",
        "\\",
        "'",
        "${",
        "}",
        "e",
        "1e308",
        "9223372036854775807",
    ]
)


@FAST
@given(st.text(max_size=200))
def test_random_text_never_crashes(text: str) -> None:
    run(text)


@FAST
@given(st.lists(TOKENS, max_size=60).map("".join))
def test_random_token_soup_never_crashes(source: str) -> None:
    run(source)


@FAST
@given(st.text(max_size=120))
def test_random_templates_never_crash(text: str) -> None:
    try:
        compile_template(text, SMALL).render(BINDINGS)
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc.message


QUOTES = ["'", '"', "'" * 3, '"' * 3, "b'", 'b"', "r'", 'br"']
QUOTED = st.tuples(
    st.sampled_from(QUOTES),
    st.lists(st.sampled_from(["\\", "\\", "\\", "a", "'", '"', "\n", "x", "u", "0"]), max_size=120),
    st.sampled_from(["", *QUOTES[:4]]),
).map(lambda t: t[0] + "".join(t[1]) + t[2])


@FAST
@given(QUOTED)
def test_string_literals_with_backslash_runs_lex_in_linear_time(source: str) -> None:
    # The STRING terminal once matched a backslash two ways: '"' + 36 backslashes took 6 s.
    started = time.perf_counter()
    run(source)
    run(f"x + {source} + x")
    assert time.perf_counter() - started < 1.0


@FAST
@given(st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=8))
def test_lone_surrogates_are_expression_errors(text: str) -> None:
    for source in (f"'{text}'.matches('a')", f"b'{text}'", f"s.matches('{text}')", text):
        run(source)
    try:
        compile_template("x${s}" + text, SMALL).render(BINDINGS)
    except ExpressionError as exc:
        assert not exc.message.startswith("internal error"), exc.message


# --- generated well-formed expressions -------------------------------------------------

LEAVES = st.sampled_from(
    [
        "x",
        "s",
        "l",
        "m",
        "params.n",
        "params.items",
        "1",
        "-1",
        "2u",
        "0.5",
        "'a'",
        "b'z'",
        "true",
        "false",
        "null",
        "[]",
        "{}",
        "m.a",
        "l[0]",
        "9223372036854775807",
        "timestamp('2024-01-01T00:00:00Z')",
        "duration('1h')",
        "params.name",
    ]
)


def _compose(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(
        ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]
    )
    var = st.sampled_from(["v", "w"])
    return st.one_of(
        st.tuples(children, binary, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        children.map(lambda c: f"!({c})"),
        children.map(lambda c: f"-({c})"),
        st.lists(children, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(children, children).map(lambda t: f"{{{t[0]}: {t[1]}}}"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        children.map(lambda c: f"size({c})"),
        children.map(lambda c: f"string({c})"),
        children.map(lambda c: f"int({c})"),
        children.map(lambda c: f"has({c}.f)"),
        st.tuples(children, var, children).map(lambda t: f"{t[0]}.map({t[1]}, {t[2]})"),
        st.tuples(children, var, children).map(lambda t: f"{t[0]}.filter({t[1]}, {t[2]})"),
        st.tuples(children, var, children).map(lambda t: f"{t[0]}.all({t[1]}, {t[2]})"),
        st.tuples(children, var, children).map(lambda t: f"{t[0]}.exists({t[1]}, {t[2]})"),
        st.tuples(children, children).map(lambda t: f"{t[0]}.matches({t[1]})"),
        st.tuples(children, children).map(lambda t: f"{t[0]}.contains({t[1]})"),
    )


EXPRESSIONS = st.recursive(LEAVES | st.sampled_from(["v", "w"]), _compose, max_leaves=25)


@FAST
@given(EXPRESSIONS)
def test_generated_expressions_only_raise_expression_errors(source: str) -> None:
    run(source)


# --- adversarial shapes ------------------------------------------------------------------


@settings(max_examples=30, deadline=DEADLINE)
@given(st.integers(1, 3000), st.sampled_from(["(", "[", "-(", "!(", "f(", "{1: ", "[0]["]))
def test_deep_nesting_is_limited_cleanly(depth: int, opener: str) -> None:
    closer = {"(": ")", "[": "]", "-(": ")", "!(": ")", "f(": ")", "{1: ": "}", "[0][": "]"}
    run(opener * depth + "1" + closer[opener] * depth)


@settings(max_examples=20, deadline=DEADLINE)
@given(st.integers(1, 40))
def test_exponential_string_growth_hits_the_size_limit(levels: int) -> None:
    source = "'abcdefgh'"
    for _ in range(levels):
        source = f"[{source}].map(v, v + v)[0]"
    try:
        value = compile_expression(source, SMALL).evaluate()
        assert len(value) <= SMALL.max_string_length
    except LimitExceededError:
        assert levels > 5
    except ExpressionError:
        pass


@settings(max_examples=20, deadline=DEADLINE)
@given(st.integers(1, 12), st.integers(2, 6))
def test_nested_comprehensions_are_stopped_by_the_cost_budget(levels: int, width: int) -> None:
    items = "[" + ", ".join(str(i) for i in range(width)) + "]"
    body = "v0"
    for i in range(levels, 0, -1):
        body = f"{items}.map(v{i}, {body})"
    body = body.replace("v0", "1")
    try:
        compile_expression(body, SMALL).evaluate()
        # Anything that finishes did fit: width**levels iterations within the budget.
        assert width**levels <= SMALL.max_cost
    except LimitExceededError:
        assert width**levels > 100
    except ExpressionError:
        pass


@settings(max_examples=15, deadline=DEADLINE)
@given(st.integers(5, 40))
def test_shared_structure_cannot_explode(levels: int) -> None:
    shared = "[1, 2]"
    for _ in range(levels):
        shared = f"[{shared}].map(v, [v, v])[0]"
    for source in (shared, f"{shared} == {shared}", f"string({shared})"):
        with contextlib.suppress(ExpressionError):
            compile_expression(source, SMALL).evaluate()
    with contextlib.suppress(ExpressionError):
        compile_template("x${" + shared + "}", SMALL).render()


# --- round trips ---------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=10)
    | st.floats(allow_nan=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(JSON)
def test_json_data_round_trips_unchanged(value: Any) -> None:
    assert to_cel(value) is value
    assert from_cel(to_cel(value)) == value
    result = compile_expression("v", SMALL).evaluate({"v": value})
    assert json.dumps(result, sort_keys=True) == json.dumps(value, sort_keys=True)


@FAST
@given(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**63), 2**63 - 1))
def test_int_arithmetic_is_exact_or_an_overflow_error(a: int, b: int) -> None:
    for op, expected in (("+", a + b), ("-", a - b), ("*", a * b)):
        try:
            value = compile_expression(f"x {op} y").evaluate({"x": a, "y": b})
        except ExpressionError as exc:
            assert "overflow" in exc.message
            assert not -(2**63) <= expected < 2**63
        else:
            assert value == expected
