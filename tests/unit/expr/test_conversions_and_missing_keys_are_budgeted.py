"""Evaluations the cost budget did not bound. docs/expressions.md: breaking a limit is
"an error with a position, never a crash or a hang", and the default budget "stops an
evaluation after well under a second". Each case below ran for many seconds (minutes
at the sizes a step output allows) within the default budget."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from podium.core.expr import LimitExceededError, Limits, compile_expression

ALLOWED_SECONDS = 1.0


def _timed(source: str, bindings: dict[str, Any]) -> float:
    started = time.perf_counter()
    with contextlib.suppress(LimitExceededError):
        compile_expression(source).evaluate(bindings)
    return time.perf_counter() - started


def test_a_missing_key_named_by_a_big_value_is_not_printed_whole() -> None:
    """``{'a': 1}[rows]`` with ``rows`` a 100,000-element list failed with "no such key:
    ..." after core/expr/operators._show_key built ``repr`` of the whole list (about 12
    ms) to keep 60 characters of it; absorbed by ``||`` in a comprehension it was paid
    per iteration, uncharged (200 iterations took 2-3 s, the 80,000 the budget allows
    about 16 minutes). A list or map key is now named by its type and size."""
    rows = list(range(100_000))
    took = _timed("podium.range(0, 200).all(i, {'a': 1}[rows] == 1 || true)", {"rows": rows})
    assert took < ALLOWED_SECONDS, f"took {took:.1f} s"


def test_bytes_and_string_conversions_of_long_values_are_charged() -> None:
    """``bytes(s)`` and ``string(b)`` copied (and checked) the whole value for one step,
    counting nothing in max_produced (core/expr/functions.fn_bytes, fn_string), where
    ``s + 'x'`` and ``s.contains('x')`` on the same string are charged per KiB: 80,000
    conversions of a 100,000-character string took 17 s (``bytes``) and 33 s
    (``string``) within the default budget, copying 16 GB past max_produced. They are
    now charged per KiB and counted as produced, so they are refused as those are."""
    small = Limits(max_cost=50_000, max_produced=20_000_000)
    text = "é" * 100_000
    for source in ("size(s + 'x') > 0", "s.contains('x') || true"):  # charged already
        with pytest.raises(LimitExceededError):
            compile_expression(f"podium.range(0, 2000).all(i, {source})", small).evaluate(
                {"s": text}
            )
    for source, bindings in (
        ("size(bytes(v)) > 0", {"v": text}),
        ("size(string(v)) > 0", {"v": text.encode()}),
    ):
        with pytest.raises(LimitExceededError):
            compile_expression(f"podium.range(0, 2000).all(i, {source})", small).evaluate(bindings)


def test_short_conversions_still_work() -> None:
    assert compile_expression("string(bytes(s)) == s").evaluate({"s": "é" * 2000}) is True
