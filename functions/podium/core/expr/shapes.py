"""What an expression always evaluates to, read off its syntax tree alone.

Only the shapes that settle it are named: a literal, a list or map literal, arithmetic,
a negation, a ternary whose two branches agree. A field, a call, a comparison or a
logical operator may be anything (or is a boolean): None. Conditions use it to refuse,
at push, an expression that can never be true or false (core/dsl/conditions.py).
"""

from __future__ import annotations

from .nodes import Binary, Cond, ListLit, Literal, MapLit, Node, Unary

_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})


def static_shape(node: Node) -> str | None:
    """ "a number", "a string", "a list"... when ``node`` always gives that, else None
    (booleans, and anything the tree does not settle)."""
    if isinstance(node, Literal):
        return None if isinstance(node.value, bool) else _literal_shape(node.value)
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
        then, other = static_shape(node.then), static_shape(node.other)
        if then is None or other is None:
            return None
        return then if then == other else "a value that is not a boolean"
    return None


def _literal_shape(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bytes):
        return "bytes"
    return "a number"
