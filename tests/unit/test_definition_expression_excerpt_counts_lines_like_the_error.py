"""A definition's expression error quoted the wrong line (review R31e).

core/dsl/expressions._expr_issue took the excerpt's line with ``splitlines()``, which
also breaks at ``\\r``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``, ``\\u2028`` and
``\\u2029``, while the error's line number counts ``\\n`` only
(core/expr/errors.line_and_column): a condition with one of those before the error
named line 2 and quoted another piece of text. It now splits at ``\\n`` as the error
counts.
"""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition


def _message(when: str) -> str:
    wf = {
        "name": "w",
        "steps": [
            {"id": "a", "type": "noop"},
            {"id": "b", "type": "noop", "depends_on": [{"step": "a", "when": when}]},
        ],
    }
    with pytest.raises(DefinitionError) as caught:
        validate_definition(wf)
    return str(caught.value)


@pytest.mark.parametrize("brk", ["\x0c", "\r", "\x0c\r"])
def test_the_excerpt_is_the_line_the_error_names(brk: str) -> None:
    """``true{brk}&&\\n  foo(1)`` quoted ``'&&'`` for an error at line 2."""
    message = _message(f"true{brk}&&\n  foo(1)")
    assert "at line 2, column 3: '  foo(1)'" in message


def test_a_line_separator_stays_in_the_quoted_line() -> None:
    """``\\u2028`` (not CEL whitespace) is refused at line 1; the excerpt was cut at it."""
    message = _message("true\u2028&& false")
    assert "at column 5: 'true\\u2028&& false'" in message


def test_plain_newlines_still_quote_their_line() -> None:
    """Guard (passed before)."""
    message = _message("true &&\n  foo(1)")
    assert "at line 2, column 3: '  foo(1)'" in message
