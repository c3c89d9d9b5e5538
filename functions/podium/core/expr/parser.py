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
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .errors import ExpressionError, ExpressionSyntaxError, LimitExceededError
from .limits import Limits
from .literals import decode_int, decode_quoted, decode_uint
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
    try:
        result = _lark().parse(source)
        node = _node(result)
    except UnexpectedInput as exc:
        raise syntax_error(exc, source) from None
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


# --------------------------------------------------------------------------------------
# Friendly syntax errors, in the style of lark's `match_examples` error reporting
# --------------------------------------------------------------------------------------


def _examples() -> dict[str, list[str]]:
    """Malformed inputs whose parser state identifies the problem.

    Only states reached right after a distinctive token (an operator, a '.') are
    reliable: after an operand LALR merges the states of every context, so those
    errors are classified from the expected tokens instead (see `_classify`).
    """
    ops = ("+", "-", "*", "/", "%", "&&", "||", "<", "==", "in", "?")
    return {
        "missing operand": [
            *(x + " " + op for x in ("1", "a.b", "(1)", "f(1)") for op in ops),
            *("1 " + op + " " + op2 + " 2" for op in ops for op2 in ("*", "/", "%", "&&", "||")),
            "!",
            "-",
            "a ? b :",
            "(",
            "[1,",
            "f(1,",
            "{1:",
            "a[",
            "f(",
            "[",
            "{",
            "-!a",
            "!-a",
            "1 + )",
            "1 + ]",
            "1 + }",
        ],
        "empty expression": [""],
        "missing field name after '.'": [
            x + y for x in ("a", "a.b", "f(1)", "a[1]") for y in (".", ".(b)", ".'x'", "..b", ". +")
        ],
        "a `quoted` name is only allowed after '.'": ["`x`", "1 + `x`", "f(`x`)"],
    }


_EXAMPLES = _examples()

_TERMINAL_NAMES = {
    "$END": "end of expression",
    "RPAR": "')'",
    "LPAR": "'('",
    "RSQB": "']'",
    "LSQB": "'['",
    "LBRACKET": "'['",
    "RBRACE": "'}'",
    "LBRACE": "'{'",
    "COMMA": "','",
    "COLON": "':'",
    "DOT": "'.'",
    "QMARK": "'?'",
    "OR": "'||'",
    "AND": "'&&'",
    "RELOP": "a comparison",
    "IN": "'in'",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "PERCENT": "'%'",
    "BANG": "'!'",
    "IDENT": "a name",
    "QIDENT": "a `quoted` field name",
    "INT": "a number",
    "UINT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "TRUE": "'true'",
    "FALSE": "'false'",
    "NULL": "'null'",
}


def _describe(tok: Token) -> str:
    if tok.type == "$END":
        return "end of expression"
    if tok.type == "IDENT":
        return f"name '{tok}'"
    text = str(tok)
    if len(text) > 20:
        text = text[:17] + "..."
    return repr(text)


def _expected(exc: UnexpectedToken) -> str:
    names = sorted({_TERMINAL_NAMES.get(t, t) for t in exc.expected if not t.startswith("__")})
    if not names:
        return ""
    if len(names) > 6:
        names = [*names[:6], "..."]
    return "; expected " + ", ".join(names)


_Signature = tuple[int, frozenset[str], str, str, str]
_signatures: list[_Signature] | None = None


def _example_signatures() -> list[_Signature]:
    """Parse every example once and remember the parser state where it failed.

    This is lark's `match_examples` idea, keyed on the LALR state number alone (lark
    also compares the stack depth, which makes `(1 * 2` and `x + (1 * 2` differ).
    """
    global _signatures
    if _signatures is None:
        sigs: list[_Signature] = []
        for label, cases in _EXAMPLES.items():
            for malformed in cases:
                try:
                    _lark().parse(malformed)
                except UnexpectedToken as ut:
                    state = getattr(ut.state, "position", ut.state)
                    expected = frozenset(ut.expected)
                    sigs.append((state, expected, ut.token.type, str(ut.token), label))
                except (UnexpectedInput, ExpressionError):
                    continue
        _signatures = sigs
    return _signatures


def _match_example(exc: UnexpectedToken) -> str | None:
    state = getattr(exc.state, "position", exc.state)
    expected = frozenset(exc.expected)
    same_type: str | None = None
    same_state: str | None = None
    for sig_state, sig_expected, tok_type, tok_text, label in _example_signatures():
        if sig_state != state or sig_expected != expected:
            continue
        if tok_type == exc.token.type:
            if tok_text == str(exc.token):
                return label
            same_type = same_type or label
        same_state = same_state or label
    return same_type or same_state


_OPERAND_START = frozenset(
    {
        "IDENT",
        "INT",
        "UINT",
        "FLOAT",
        "STRING",
        "TRUE",
        "FALSE",
        "NULL",
        "LPAR",
        "LBRACKET",
        "LBRACE",
        "BANG",
        "MINUS",
        "DOT",
    }
)
_BINARY = frozenset(
    {"OR", "AND", "RELOP", "IN", "PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "QMARK"}
)
_CLOSERS = {"(": ("RPAR", ")"), "[": ("RSQB", "]"), "{": ("RBRACE", "}")}


def _open_brackets(source: str) -> list[str]:
    """Brackets still open at the end of `source` (strings and comments skipped)."""
    stack: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if stack:
                stack.pop()
        elif ch in "'\"":
            triple = source.startswith(ch * 3, i)
            delim = ch * 3 if triple else ch
            i += len(delim)
            while i < n and not source.startswith(delim, i):
                i += 2 if source[i] == "\\" else 1
        elif ch == "/" and source.startswith("//", i):
            while i < n and source[i] != "\n":
                i += 1
        i += 1
    return stack


def _missing_closer(exc: UnexpectedToken, source: str) -> str | None:
    """Bracket errors come from the bracket stack: LALR states are shared between
    `(a, b`, `[a, b` and `f(a, b`, so the parser state alone cannot tell them apart."""
    if exc.token.type not in ("$END", "RPAR", "RSQB", "RBRACE"):
        return None
    end = len(source) if exc.token.type == "$END" else (exc.token.start_pos or 0)
    stack = _open_brackets(source[:end])
    if stack and _CLOSERS[stack[-1]][0] in exc.expected:
        return f"missing closing '{_CLOSERS[stack[-1]][1]}'"
    return None


def _classify(exc: UnexpectedToken, source: str) -> str | None:
    """Friendly wording when no example matched, from the expected token set."""
    tok = exc.token
    expected = set(exc.expected)
    if tok.type == "COMMA":
        return "unexpected ','"
    if tok.type == "COLON":
        return "unexpected ':'"
    if tok.type in ("RPAR", "RSQB", "RBRACE"):
        closer = {"RPAR": ")", "RSQB": "]", "RBRACE": "}"}[tok.type]
        return f"unbalanced '{closer}'"
    if tok.type == "$END":
        if "COLON" in expected and "?" in source:
            return "missing ':' in conditional (expected `cond ? a : b`)"
        if expected & _OPERAND_START:
            return "missing operand"
        return None
    if tok.type in _OPERAND_START and tok.type not in ("MINUS", "DOT") and expected & _BINARY:
        return "missing operator between operands"
    if tok.type in _BINARY and expected & _OPERAND_START:
        return "missing operand"
    return None


def syntax_error(exc: UnexpectedInput, source: str) -> ExpressionSyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = source[pos : pos + 1]
        if ch in ("'", '"'):
            message = "unterminated string literal"
        elif ch == "`":
            message = "unterminated `quoted` field name"
        elif ch == "=":
            message = "'=' is not an operator; use '==' to compare"
        elif ch == "&" or ch == "|":
            message = f"unexpected {ch!r}; logical operators are '&&' and '||'"
        else:
            message = f"unexpected character {ch!r}"
        return ExpressionSyntaxError(message, pos, None, None, source)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        pos = len(source.rstrip()) if tok.type == "$END" else (tok.start_pos or 0)
        label = _missing_closer(exc, source) or _match_example(exc) or _classify(exc, source)
        found = _describe(tok)
        if label is not None:
            message = label if tok.type == "$END" else f"{label} (found {found})"
        else:
            message = f"unexpected {found}{_expected(exc)}"
        return ExpressionSyntaxError(message, pos, None, None, source)
    pos = getattr(exc, "pos_in_stream", None) or len(source)
    return ExpressionSyntaxError("invalid expression", pos, None, None, source)
