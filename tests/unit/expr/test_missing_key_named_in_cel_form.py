"""What "no such key" and "repeated map key" show: the key in CEL's form.

core/expr/operators._show_key printed Python's repr (``None``, ``Timestamp(0)``,
``True`` for a bool key found elsewhere) and the whole text of a list or map key cut at
60 characters; the compiler's repeated map key did the same. They now show CEL
literals (``null``, ``timestamp('1970-01-01T00:00:00Z')``, ``3u``, ``b'xy'``) and a list
or map by its type and size."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.expr import ExpressionError, compile_expression


def _message(source: str, bindings: dict[str, Any] | None = None) -> str:
    with pytest.raises(ExpressionError) as err:
        compile_expression(source).evaluate(bindings or {})
    return err.value.message


def test_a_missing_map_key_of_null_is_shown_as_null() -> None:
    """``m[k]`` with ``k`` null (an optional param not given) said "no such key: None"."""
    assert _message("m[k]", {"m": {"a": 1}, "k": None}) == "no such key: null"


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("timestamp(0)", "timestamp('1970-01-01T00:00:00Z')"),
        ("duration('90s')", "duration('90s')"),
        ("3u", "3u"),
        ("b'xy'", "b'xy'"),
        ("[1, 2]", "a list of 2 elements"),
        ("{'a': 1}", "a map of 1 entry"),
    ],
)
def test_a_missing_key_is_shown_as_cel_writes_it(key: str, shown: str) -> None:
    assert _message(f"{{'a': 1}}[{key}]") == f"no such key: {shown}"


def test_a_long_string_key_is_cut() -> None:
    message = _message("m[k]", {"m": {}, "k": "x" * 1000})
    assert message.startswith("no such key: 'xxx") and message.endswith("...")
    assert len(message) < 100


def test_a_repeated_map_key_is_shown_as_cel_writes_it() -> None:
    assert _message("{true: 1, true: 2}") == "repeated map key true"
    assert _message("{0: 1, 0u: 2}") == "repeated map key 0u"
