"""A `}` inside a `//` comment ended a template's `${...}` early (review R31e).

core/expr/interpolate._closing_brace skipped braces in string literals and backquoted
names but not in comments, which the grammar allows (``COMMENT: //[^\\n]*``, ignored):
in a multi-line expression, ``// the } thing`` closed the ``${`` at that ``}``, so the
template failed with a syntax error in the cut-off expression (or cut a backquote in a
comment open to the end of the template). A comment now runs to the end of the line,
as the parser reads it.
"""

from __future__ import annotations

import pytest

from podium.core.expr import compile_template
from podium.core.expr.interpolate import untemplated

MULTI_LINE = "${ {\n  'a': 1,  // the } thing\n  'b': 2,  // a lone ` quote\n}.b }/x"


def test_a_brace_in_a_comment_does_not_end_the_expression() -> None:
    assert compile_template(MULTI_LINE).render({}) == "2/x"


def test_a_condition_written_as_a_template_is_read_whole() -> None:
    """``untemplated`` (the hint for ``${...}`` in a condition) uses the same scan."""
    assert untemplated("${ x // the } in it\n > 1 }") == "x // the } in it\n > 1"


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("${ x // note }", 1),  # on one line: nothing else closes it
        ("a: ${ x // note }\nb: ${ y }", "a: 1\nb: 2"),
        ("${ x // {a} \n + 1 }", 2),
        ("${ x / 1 }/${ 'a//b' }", "1/a//b"),  # a division, a string: no comment
    ],
)
def test_what_worked_before_still_does(source: str, rendered: object) -> None:
    """Guard (passed before): a stored version holding these must still load."""
    assert compile_template(source).render({"x": 1, "y": 2}) == rendered
