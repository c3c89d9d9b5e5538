"""Comparing long strings was not charged by their length (review R31e).

docs/expressions.md promises that breaking a limit is "an error with a position, never
a crash or a hang" and that the default budget "stops an evaluation after well under a
second". Concatenations, conversions and ``contains`` were charged per KiB, but comparing
two strings (``==``, ``!=``, ``<``..., ``startsWith``, ``endsWith``, ``in`` on a list, a
map key) cost one step (or one per 8 list elements) whatever their length, so a
definition's own expression (no bindings: anyone who can push a workflow) compared
gigabytes of text within the budget and ran for 13-43 s. Each comparison that reads a
KiB or more is now charged one step per KiB, as a concatenation of that size is.

The tests assert on the charge (what the budget refuses), never on wall time.
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.expr import LimitExceededError, Limits, compile_expression

# A 99,000-character string built inside the expression: a 3,000-character literal
# concatenated 33 times (charged per KiB, within every limit).
_LITERAL = "'" + "a" * 3000 + "'"
_LONG = "+".join(["a"] * 33)


def _with_long_strings(body: str) -> str:
    """``body`` evaluated where ``s`` and ``s2`` are two equal 99,000-character strings
    (two objects) and ``t`` is ``s + 'b'``."""
    return f"[{_LITERAL}].map(a, [{_LONG}].map(s, [{_LONG}].map(s2, [s + 'b'].map(t, {body}))))"


def test_in_on_a_list_of_long_strings_is_refused_by_the_budget() -> None:
    """``x in L`` with ``L`` 100,000 references to one 99,000-character string and
    ``x`` equal to it but for the last character compared about 10 GB of text and was
    charged 1 + 100,000 / 8 steps (core/expr/operators.in_): one such test passed
    within the default budget (200 of them in one expression ran 43 s). It is charged
    per KiB compared: 100,000 x 96 steps, far over the 1,000,000 allowed."""
    source = _with_long_strings(
        "[podium.range(0, 100000).map(i, t)].map(L, podium.range(0, 1).all(j, !((s + 'c') in L)))"
    )
    assert len(source) < 4096  # a definition may hold it
    with pytest.raises(LimitExceededError, match="evaluation cost limit exceeded"):
        compile_expression(source).evaluate({})


def test_equality_of_lists_of_long_strings_is_refused_by_the_budget() -> None:
    """``A == B``, two lists of 1,000 references to two equal 99,000-character strings,
    compared 99 MB of text for 1,001 steps (core/expr/values._list_equal charged one
    step per element, the element ``==`` nothing for the length): 950 such tests passed
    within the default budget. Charged per KiB compared (about 96,000 steps each), 20
    are over it."""
    source = _with_long_strings(
        "[podium.range(0, 1000).map(i, s)].map(A, [podium.range(0, 1000).map(i, s2)]"
        ".map(B, podium.range(0, 20).all(j, A == B)))"
    )
    assert len(source) < 4096
    with pytest.raises(LimitExceededError, match="evaluation cost limit exceeded"):
        compile_expression(source).evaluate({})


_TEXT = "x" * 100_000  # about 97 KiB: 97 steps to compare in full
_COMPARISONS = [
    "a == b",
    "!(a != b)",
    "!(a < b)",
    "a <= b",
    "!(a > b)",
    "a >= b",
    "(a == b) == true",  # the generic path (a chain), not the inline fast path
    "a.startsWith(b)",
    "a.endsWith(b)",
    "a in [b]",
    "a in ['short', b]",
    "[a] == [b]",
    "{'k': a} == {'k': b}",
    "{a: 1} == {b: 1}",  # map keys: found by hash, then compared
    "{b: 1}[a] == 1",
    "a in {b: 1}",
    "p == q",  # bytes
    "p in [q]",
]


def _bindings(n: int) -> dict[str, Any]:
    """``a`` and ``b`` equal strings of ``n`` characters, ``p`` and ``q`` equal bytes:
    two objects each, so Python compares them in full."""
    a = "x" * n
    b = "".join(["x"] * n)
    assert a == b and a is not b
    return {"a": a, "b": b, "p": a.encode(), "q": b.encode()}


@pytest.mark.parametrize("source", _COMPARISONS)
def test_comparing_two_long_strings_is_charged_per_kib(source: str) -> None:
    """Each of these compared two 100,000-character values for one step or none."""
    with pytest.raises(LimitExceededError, match="evaluation cost limit exceeded"):
        compile_expression(source, Limits(max_cost=60)).evaluate(_bindings(100_000))
    # ... and what it is charged is the length (about 97 steps), not more.
    assert compile_expression(source, Limits(max_cost=200)).evaluate(_bindings(100_000)) is True


@pytest.mark.parametrize("source", _COMPARISONS)
def test_comparing_short_strings_costs_what_it_did(source: str) -> None:
    """Guard (passed before): below a KiB a comparison is not charged for the text."""
    assert compile_expression(source, Limits(max_cost=60)).evaluate(_bindings(1023)) is True


def test_a_long_probe_skips_elements_of_another_length_uncharged() -> None:
    """Python does not read a string of another length (or another type) to tell it
    is not equal: a long probe over 100,000 short strings costs the usual one step per
    8 elements, not a KiB each."""
    bindings = {"a": "x" * 100_000, "L": ["y"] * 100_000 + [b"x" * 100_000]}
    assert compile_expression("a in L", Limits(max_cost=13_000)).evaluate(bindings) is False


def test_short_string_comparisons_still_work() -> None:
    ce = compile_expression(
        "'ab' in ['x', 'ab'] && 'ab' == 'ab' && 'a' < 'b' && 'abc'.startsWith('ab')"
        " && 'abc'.endsWith('bc') && !('b' < 'a') && b'ab' in [b'ab']"
    )
    assert ce.evaluate({}) is True
