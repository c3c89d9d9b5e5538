"""`${expr}` interpolation in strings.

    compile_template("s3://bucket/${params.region}/${run.logical_date}.csv")

`$${` is a literal `${`. A template that is exactly one `${expr}` renders to the
expression's value itself (so a parameter can be a list or a number); otherwise the
parts are concatenated: strings as they are, scalars in their CEL `string()` form,
lists and maps as compact JSON. Error positions point into the template.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .errors import (
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    Fault,
    LimitExceededError,
)
from .expression import CompiledExpression, compile_expression
from .functions import bytes_to_json, to_string
from .limits import DEFAULT_LIMITS, Limits
from .literals import find_surrogate, surrogate_message
from .shown import double_text
from .timeutil import format_duration, format_timestamp
from .values import BoolKey, CelType, Duration, Timestamp, UInt

_Part = str | tuple[CompiledExpression, int]  # literal text, or (expression, offset)


class CompiledTemplate:
    """A parsed template. Immutable and cached by source."""

    __slots__ = ("_parts", "_single", "is_static", "limits", "problems", "references", "source")

    def __init__(self, source: str, parts: list[_Part], limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self._parts = tuple(parts)
        exprs = [p for p in parts if not isinstance(p, str)]
        self.is_static = not exprs
        self._single = exprs[0] if len(parts) == 1 and exprs else None
        refs: set[str] = set()
        for expr, _ in exprs:
            refs |= expr.references
        self.references = frozenset(refs)
        # Its expressions' constant arguments that always fail, pointing into the template.
        self.problems = tuple(p.relocated(at, source) for expr, at in exprs for p in expr.problems)

    def __repr__(self) -> str:
        return f"CompiledTemplate({self.source!r})"

    def render(self, bindings: Mapping[str, Any] | None = None) -> Any:
        """The rendered string (or, for a lone `${expr}`, the value, as plain Python)."""
        if self._single is not None:
            expr, offset = self._single
            try:
                return expr.evaluate(bindings)
            except ExpressionError as exc:
                raise exc.relocated(offset, self.source) from None
        return self.render_text(bindings)

    def render_text(self, bindings: Mapping[str, Any] | None = None) -> str:
        """The rendered string, always: a lone `${expr}` too is printed as text (a map
        key rendered from a template: ``${params.year}`` gives ``"2024"``)."""
        if self.is_static:
            return "".join(p for p in self._parts if isinstance(p, str))
        out: list[str] = []
        total = 0
        cap = self.limits.max_string_length
        for part in self._parts:
            if isinstance(part, str):
                text = part
            else:
                expr, offset = part
                try:
                    variables = expr.convert_bindings(bindings) if bindings else {}
                    text = render_value(expr.evaluate_cel(variables), cap)
                except ExpressionError as exc:
                    raise exc.relocated(offset, self.source) from None
                except Fault as fault:
                    raise fault.to_public(self.source, offset) from None
                except RecursionError:
                    raise LimitExceededError(
                        "value nested too deeply to render", offset, None, None, self.source
                    ) from None
            total += len(text)
            if total > cap:
                raise LimitExceededError(
                    f"rendered template too long (max {cap} characters)",
                    part[1] if not isinstance(part, str) else 0,
                    None,
                    None,
                    self.source,
                )
            out.append(text)
        return "".join(out)


def compile_template(source: str, limits: Limits | None = None) -> CompiledTemplate:
    """Parse `source` and compile every `${...}` in it (cached). Raises ExpressionError."""
    if not isinstance(source, str):
        raise ExpressionTypeError(f"template must be a string, not {type(source).__name__}")
    return _compile_template(source, limits or DEFAULT_LIMITS)


@lru_cache(maxsize=4096)
def _compile_template(source: str, limits: Limits) -> CompiledTemplate:
    if len(source) > limits.max_template_length:
        raise LimitExceededError(
            f"template too long ({len(source)} > {limits.max_template_length} characters)",
            limits.max_template_length,
            None,
            None,
            source,
        )
    bad = find_surrogate(source)
    if bad >= 0:
        raise ExpressionSyntaxError(surrogate_message(source, bad), bad, None, None, source)
    parts: list[_Part] = []
    text: list[str] = []
    i = 0
    n = len(source)
    while i < n:
        j = source.find("$", i)
        if j < 0:
            text.append(source[i:])
            break
        text.append(source[i:j])
        if source.startswith("$${", j):
            text.append("${")
            i = j + 3
        elif source.startswith("${", j):
            start = j + 2
            end = _closing_brace(source, start)
            if end < 0:
                raise ExpressionSyntaxError(
                    "unterminated '${' in template (missing '}')", j, None, None, source
                )
            literal = "".join(text)
            if literal:
                parts.append(literal)
            text = []
            try:
                expr = compile_expression(source[start:end], limits)
            except ExpressionError as exc:
                raise exc.relocated(start, source) from None
            parts.append((expr, start))
            i = end + 1
        else:
            text.append("$")
            i = j + 1
    if text and "".join(text):
        parts.append("".join(text))
    return CompiledTemplate(source, parts, limits)


def untemplated(source: str) -> str | None:
    """An expression written with templates in it (``${params.ok} == true``, where a
    condition belongs), with each ``${expr}`` outside its string literals replaced by
    ``expr``: what was meant; None when it has none (``'${x}'`` is a string literal)."""
    out: list[str] = []
    found = False
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch in "'\"":
            end = _skip_string(source, i)
            out.append(source[i:end])
            i = end
        elif ch == "`":
            k = source.find("`", i + 1)
            end = n if k < 0 else k + 1
            out.append(source[i:end])
            i = end
        elif source.startswith("${", i):
            close = _closing_brace(source, i + 2)
            end = n if close < 0 else close
            out.append(source[i + 2 : end].strip())
            found = True
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out).strip() if found else None


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` that closes a `${` whose body starts at `start`, or -1.

    Skips braces inside string literals and backquoted names, so `${ {'a': '}'}.a }`
    works, and inside `//` comments, which run to the end of the line as the parser
    reads them (a `}` in a comment of a multi-line expression ended it early). When
    no `}` closes it that way, a `}` in a comment does: `${ x // note }` on one line
    meant that `}`, and so it did before comments were skipped (a stored version
    holding one must still load).
    """
    end = _scan_braces(text, start, comments=True)
    return end if end >= 0 else _scan_braces(text, start, comments=False)


def _scan_braces(text: str, start: int, comments: bool) -> int:
    depth = 0
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "}":
            if depth == 0:
                return i
            depth -= 1
        elif ch == "{":
            depth += 1
        elif ch in "'\"":
            i = _skip_string(text, i)
            continue
        elif ch == "`":
            k = text.find("`", i + 1)
            i = n if k < 0 else k + 1
            continue
        elif comments and ch == "/" and text.startswith("//", i):
            k = text.find("\n", i)
            i = n if k < 0 else k
            continue
        i += 1
    return -1


def _skip_string(text: str, i: int) -> int:
    """Index just past the string literal starting with the quote at `i`."""
    # r'..' or br'..': a prefix letter that is not the end of a longer name
    raw = i > 0 and text[i - 1] in "rR"
    if raw and i > 1 and (text[i - 2].isalnum() or text[i - 2] == "_"):
        raw = text[i - 2] in "bB" and (i < 3 or not (text[i - 3].isalnum() or text[i - 3] == "_"))
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    delim = quote * 3 if triple else quote
    j = i + len(delim)
    n = len(text)
    while j < n:
        if text.startswith(delim, j):
            return j + len(delim)
        if text[j] == "\\" and not raw:
            j += 2
            continue
        if not triple and text[j] in "\r\n":
            return j  # unterminated: let the parser report it
        j += 1
    return n


def render_value(value: Any, cap: int) -> str:
    """Text for one interpolated value: `string()` for scalars, JSON for lists and maps."""
    t = type(value)
    if t is str:
        return str(value)
    if value is None:
        return "null"
    if t is list or t is dict:
        out: list[str] = []
        _json(value, out, [cap, cap])
        return "".join(out)
    return to_string(value)


def _json(value: Any, out: list[str], budget: list[int]) -> None:
    t = type(value)
    if t is list:
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _json(item, out, budget)
        out.append("]")
        text = ""
    elif t is dict:
        out.append("{")
        # Keys other than strings print as text: {1: 2, '1': 3} would print "1" twice,
        # which the JSON path (json_values) refuses too.
        seen: set[str] | None = None if all(type(k) is str for k in value) else set()
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            text = _key_text(key)
            if seen is not None:
                if text in seen:
                    raise ExpressionTypeError(
                        f"the map key {json.dumps(text, ensure_ascii=False)} appears twice"
                        " once keys are JSON text"
                    )
                seen.add(text)
            out.append(json.dumps(text, ensure_ascii=False))
            out.append(":")
            _json(item, out, budget)
        out.append("}")
        text = ""
    else:
        text = _json_scalar(value)
        out.append(text)
    budget[0] -= len(text) + 1
    if budget[0] < 0:
        raise LimitExceededError(
            f"rendered value too long for a template (max {budget[1]} characters); "
            "select the fields you need instead of the whole value"
        )


def _key_text(key: Any) -> str:
    if type(key) is BoolKey:
        return "true" if key.value else "false"
    return str(key) if type(key) is str else str(int(key))


def _json_scalar(value: Any) -> str:
    t = type(value)
    if t is str:
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int or t is UInt:
        return str(int(value))
    if t is float:  # JSON has no NaN or Infinity: written as strings
        return double_text(value) if math.isfinite(value) else f'"{double_text(value)}"'
    if t is bytes:
        return json.dumps(bytes_to_json(value))
    if t is Timestamp:
        return json.dumps(format_timestamp(value))
    if t is Duration:
        return json.dumps(format_duration(value))
    if t is CelType:
        return json.dumps(value.name)
    return json.dumps(str(value))
