"""Friendly syntax errors, in the style of lark's `match_examples` error reporting.

Malformed example inputs are parsed once; an error whose LALR state matches an
example's gets that example's label ("missing operand"). Bracket problems are read
from the bracket stack instead, because LALR shares states between `(a, b`, `[a, b`
and `f(a, b`; the rest is classified from the tokens the parser expected.
"""

from __future__ import annotations

import re

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .errors import ExpressionError, ExpressionSyntaxError


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


def _example_signatures(parser: Lark) -> list[_Signature]:
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
                    parser.parse(malformed)
                except UnexpectedToken as ut:
                    state = getattr(ut.state, "position", ut.state)
                    expected = frozenset(ut.expected)
                    sigs.append((state, expected, ut.token.type, str(ut.token), label))
                except (UnexpectedInput, ExpressionError):
                    continue
        _signatures = sigs
    return _signatures


def _match_example(exc: UnexpectedToken, parser: Lark) -> str | None:
    state = getattr(exc.state, "position", exc.state)
    expected = frozenset(exc.expected)
    same_type: str | None = None
    same_state: str | None = None
    for sig_state, sig_expected, tok_type, tok_text, label in _example_signatures(parser):
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


# Words other languages use as operators, and what to write here instead.
_WORD_OPERATORS = {
    "and": "write '&&' for 'and' (e.g. a && b)",
    "or": "write '||' for 'or' (e.g. a || b)",
    "not": "write '!' for 'not' (e.g. !a)",
    "is": "write '==' for 'is' (e.g. a == null)",
}


_AFTER_NOT = re.compile(r"(?<![\w.])not\s+$")


def syntax_error(exc: UnexpectedInput, source: str, parser: Lark) -> ExpressionSyntaxError:
    """A friendly ExpressionSyntaxError for a lark error on `source`."""
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
        label = (
            _missing_closer(exc, source) or _match_example(exc, parser) or _classify(exc, source)
        )
        found = _describe(tok)
        if label is not None:
            message = label if tok.type == "$END" else f"{label} (found {found})"
        else:
            message = f"unexpected {found}{_expected(exc)}"
        hint = _WORD_OPERATORS.get(str(tok)) if tok.type == "IDENT" else None
        if hint is None and _AFTER_NOT.search(source, 0, pos):
            hint = _WORD_OPERATORS["not"]  # `not a`: the parser stops at `a`
        if hint is not None:
            message = f"{message}; {hint}"
        return ExpressionSyntaxError(message, pos, None, None, source)
    pos = getattr(exc, "pos_in_stream", None) or len(source)
    return ExpressionSyntaxError("invalid expression", pos, None, None, source)
