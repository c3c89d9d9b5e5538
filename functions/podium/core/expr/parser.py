"""Source text to syntax tree: lark LALR with an inline tree builder.

The grammar lives in `grammar.lark`. The builder callbacks run bottom-up while the
LALR parser reduces, so the syntax tree is produced without any recursive tree walk
(deeply nested input cannot exhaust the Python stack here), and node depth is known
the moment parsing ends.
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from .errors import ExpressionError, ExpressionSyntaxError, LimitExceededError
from .limits import Limits
from .literals import decode_int, decode_quoted, decode_uint, find_surrogate, surrogate_message
from .macros import expand_has, expand_macro
from .nodes import (
    Binary,
    Call,
    Chain,
    Cond,
    Ident,
    IndexStep,
    ListLit,
    Literal,
    Logic,
    MapLit,
    MethodStep,
    Node,
    SelectStep,
    Step,
    Unary,
)
from .syntax_errors import syntax_error

# CEL reserves these so expressions can be embedded in host languages.
RESERVED = frozenset(
    {
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    }
)


def _literal(tok: Token) -> Literal:
    kind = tok.type
    pos = tok.start_pos or 0
    text = str(tok)
    if kind == "INT":
        return Literal(pos, decode_int(text, pos))
    if kind == "UINT":
        return Literal(pos, decode_uint(text, pos))
    if kind == "FLOAT":
        return Literal(pos, float(text))
    if kind == "STRING":
        return Literal(pos, decode_quoted(text, pos))
    if kind == "TRUE":
        return Literal(pos, True)
    if kind == "FALSE":
        return Literal(pos, False)
    if kind == "NULL":
        return Literal(pos, None)
    raise ExpressionSyntaxError(f"unexpected {text!r}", pos)


def _node(item: Any) -> Node:
    if isinstance(item, Node):
        return item
    return _literal(item)


def _pos(tok: Token) -> int:
    return tok.start_pos or 0


def _check_ident(tok: Token) -> str:
    name = str(tok)
    if name in RESERVED:
        raise ExpressionSyntaxError(f"'{name}' is a reserved word and cannot be a name", _pos(tok))
    return name


class _Builder(Transformer[Token, Any]):
    """Callbacks named after grammar rules; each receives the rule's children."""

    def cond(self, c: list[Any]) -> Node:
        return Cond(_pos(c[1]), _node(c[0]), _node(c[2]), _node(c[3]))

    def or_expr(self, c: list[Any]) -> Node:
        return Logic(_pos(c[1]), "||", tuple(_node(x) for x in c[0::2]))

    def and_expr(self, c: list[Any]) -> Node:
        return Logic(_pos(c[1]), "&&", tuple(_node(x) for x in c[0::2]))

    def rel_expr(self, c: list[Any]) -> Node:
        rest = tuple((str(c[i]), _pos(c[i]), _node(c[i + 1])) for i in range(1, len(c), 2))
        return Binary(_node(c[0]), rest)

    add_expr = rel_expr
    mul_expr = rel_expr

    def not_op(self, c: list[Any]) -> Node:
        return Unary(_pos(c[0]), "!", len(c) - 1, _node(c[-1]))

    def neg_op(self, c: list[Any]) -> Node:
        operand = c[-1]
        count = len(c) - 1
        if isinstance(operand, Token) and operand.type == "INT":
            # `-9223372036854775808` is only representable with its minus sign attached.
            minus = _pos(c[-2])
            node: Node = Literal(minus, decode_int(str(operand), _pos(operand), negated=True))
            count -= 1
            return node if count == 0 else Unary(_pos(c[0]), "-", count, node)
        return Unary(_pos(c[0]), "-", count, _node(operand))

    def member(self, c: list[Any]) -> Node:
        steps: list[Step] = []
        for step in c[1:]:
            if isinstance(step, MethodStep):
                step = expand_macro(step)
            steps.append(step)
        return Chain(_node(c[0]), tuple(steps))

    def select(self, c: list[Any]) -> Step:
        tok = c[1]
        name = str(tok)
        if tok.type == "QIDENT":
            name = name[1:-1]
        return SelectStep(_pos(tok), name)

    def method(self, c: list[Any]) -> Step:
        return MethodStep(_pos(c[1]), str(c[1]), tuple(_node(x) for x in c[2:]))

    def index(self, c: list[Any]) -> Step:
        return IndexStep(_pos(c[0]), _node(c[1]))

    def ident(self, c: list[Any]) -> Node:
        return Ident(_pos(c[0]), _check_ident(c[-1]))

    def call(self, c: list[Any]) -> Node:
        rooted = isinstance(c[0], Token) and c[0].type == "DOT"
        tok = c[1] if rooted else c[0]
        name = _check_ident(tok)
        args = tuple(_node(x) for x in c[(2 if rooted else 1) :])
        if name == "has" and len(args) == 1:
            return expand_has(_pos(tok), args[0])
        return Call(_pos(tok), name, args)

    def list_lit(self, c: list[Any]) -> Node:
        return ListLit(_pos(c[0]), tuple(_node(x) for x in c[1:]))

    def map_lit(self, c: list[Any]) -> Node:
        return MapLit(_pos(c[0]), tuple(c[1:]))

    def entry(self, c: list[Any]) -> tuple[Node, Node]:
        return (_node(c[0]), _node(c[1]))


_lock = threading.Lock()
_parser: Lark | None = None


def _lark() -> Lark:
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                grammar = resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")
                _parser = Lark(
                    grammar,
                    parser="lalr",
                    lexer="basic",
                    transformer=_Builder(),
                    maybe_placeholders=False,
                )
    return _parser


def parse(source: str, limits: Limits) -> Node:
    """Parse `source` into a syntax tree, enforcing the length and depth limits."""
    if len(source) > limits.max_length:
        raise LimitExceededError(
            f"expression is too long ({len(source)} characters, max {limits.max_length})",
            limits.max_length,
            None,
            None,
            source,
        )
    bad = find_surrogate(source)
    if bad >= 0:
        raise ExpressionSyntaxError(surrogate_message(source, bad), bad, None, None, source)
    try:
        result = _lark().parse(source)
        node = _node(result)
    except UnexpectedInput as exc:
        raise syntax_error(exc, source, _lark()) from None
    except ExpressionError as exc:
        raise type(exc)(exc.message, exc.position, None, None, source) from None
    if node.depth > limits.max_depth:
        raise LimitExceededError(
            f"expression is nested too deeply (max depth {limits.max_depth})",
            node.deep_pos,
            None,
            None,
            source,
        )
    return node
