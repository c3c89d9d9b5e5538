"""Conditions that can never be true or false, found at push.

A condition (an edge's ``when``, a while's ``condition``) must evaluate to a boolean; one
that is a number, a string, a list or a map fails its step when it is first evaluated,
deep into a run. Two mistakes are common enough to catch when the definition is pushed:
a template written where an expression belongs (``when: "${steps.a.output.ok}"``), and
an expression whose shape alone says it is not a boolean (``1``, ``params.n + 1``,
``[a, b]``). Everything else (a field, a call, a comparison) may be a boolean and is left
to run time. These are push rules (core.dsl.stored): a stored version is not judged again.
"""

from __future__ import annotations

from podium.core.expr.errors import ExpressionError
from podium.core.expr.limits import DEFAULT_LIMITS
from podium.core.expr.nodes import Binary, Cond, ListLit, Literal, MapLit, Node, Unary
from podium.core.expr.parser import parse

_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})


def template_problem(source: str) -> str | None:
    """A ``${...}`` template where an expression belongs: the message, or None."""
    text = source.strip()
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        inner = text[2:-1].strip()
        return (
            f"a condition is an expression, not a template: write {inner[:80]!r} without ${{ and }}"
        )
    return None


def never_boolean(source: str) -> str | None:
    """What ``source`` always evaluates to when that is not a boolean, or None."""
    try:
        node = parse(source, DEFAULT_LIMITS)
    except ExpressionError:
        return None  # compiling it reports the error
    kind = _kind(node)
    if kind is None:
        return None
    return f"this condition is always {kind}, never true or false; compare it (e.g. `x > 0`)"


def _kind(node: Node) -> str | None:
    if isinstance(node, Literal):
        return None if isinstance(node.value, bool) else _literal_kind(node.value)
    if isinstance(node, ListLit):
        return "a list"
    if isinstance(node, MapLit):
        return "a map"
    if isinstance(node, Unary):
        return "a number" if node.op == "-" else None
    if isinstance(node, Binary):
        # One precedence level per chain: the last operator gives the result.
        return "a number, string or list" if node.rest[-1][0] in _ARITHMETIC else None
    if isinstance(node, Cond):
        then, other = _kind(node.then), _kind(node.other)
        if then is None or other is None:
            return None
        return then if then == other else "a value that is not a boolean"
    return None


def _literal_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "bytes"
    return "a number"


def condition_problem(source: str) -> str | None:
    """Why ``source`` cannot be a condition (a template, or never a boolean), or None."""
    return template_problem(source) or never_boolean(source)
