"""A map rendered inside text (``x${m}``) had keys that print the same (``{1: 2, '1':
3}`` printed ``{"1":2,"1":3}``): JSON with a repeated key, which the JSON path
(core/expr/json_values) refuses. Text rendering now refuses it the same way."""

from __future__ import annotations

import pytest

from podium.core.expr import ExpressionError, compile_template


def test_a_map_whose_keys_print_the_same_is_refused_inside_text() -> None:
    with pytest.raises(ExpressionError) as err:
        compile_template("x${ {1: 2, '1': 3} }").render({})
    assert "appears twice" in err.value.message


def test_distinct_keys_still_print() -> None:
    assert compile_template("x${ {1: 2, '2': 3, true: 4} }").render({}) == 'x{"1":2,"2":3,"true":4}'
