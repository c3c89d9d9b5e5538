"""Typed errors for the expression language.

`ExpressionError` is the only exception the public API lets escape. It carries the
offending position so callers (the CLI, the workflow validator) can show a caret
excerpt. Evaluation uses lighter internal exceptions (`EvalError`, `LimitError`)
that are converted to `ExpressionError` at the API boundary, because CEL needs
errors to behave like values inside `&&`, `||` and comprehensions.
"""

from __future__ import annotations

from typing import ClassVar, Self

# How much of a long source line is shown around the caret.
_EXCERPT_WIDTH = 80


def line_and_column(source: str, position: int) -> tuple[int, int]:
    """1-based line and column (in code points) of a 0-based offset."""
    position = max(0, min(position, len(source)))
    line = source.count("\n", 0, position) + 1
    line_start = source.rfind("\n", 0, position) + 1
    return line, position - line_start + 1


def caret_excerpt(source: str, position: int) -> str:
    """The source line holding `position`, and a caret under it."""
    position = max(0, min(position, len(source)))
    start = source.rfind("\n", 0, position) + 1
    end = source.find("\n", position)
    if end < 0:
        end = len(source)
    text = source[start:end]
    col = position - start
    # Window long lines so the excerpt stays readable in a terminal.
    if len(text) > _EXCERPT_WIDTH:
        lo = max(0, col - _EXCERPT_WIDTH // 2)
        hi = min(len(text), lo + _EXCERPT_WIDTH)
        lo = max(0, hi - _EXCERPT_WIDTH)
        prefix = "..." if lo > 0 else ""
        suffix = "..." if hi < len(text) else ""
        text = prefix + text[lo:hi] + suffix
        col = col - lo + len(prefix)
    # Keep tabs so the caret lines up with what the terminal shows.
    pad = "".join(ch if ch == "\t" else " " for ch in text[:col])
    return f"  {text}\n  {pad}^"


class ExpressionError(Exception):
    """An expression failed to parse, compile or evaluate.

    `position` is a 0-based offset into `source`; `line` and `column` are 1-based.
    `kind` is one of: syntax, unknown_name, type, limit, runtime.
    """

    kind: ClassVar[str] = "runtime"

    def __init__(
        self,
        message: str,
        position: int | None = None,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.position = position
        if position is not None and source is not None and (line is None or column is None):
            line, column = line_and_column(source, position)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        head = self.message
        if self.line is not None and self.column is not None:
            head = f"{head} (line {self.line}, column {self.column})"
        if self.source is not None and self.position is not None:
            return f"{head}\n{caret_excerpt(self.source, self.position)}"
        return head

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the positional data when errors cross process boundaries (pickling).
        return (type(self), (self.message, self.position, self.line, self.column, self.source))

    def relocated(self, offset: int, source: str) -> ExpressionError:
        """The same error, pointing into a larger `source` that embeds this one at `offset`.

        Templates use this so positions refer to the template, not the inner `${...}`.
        """
        # An error without a position of its own (a size limit of the whole value)
        # points at the start of the embedded expression.
        position = offset if self.position is None else self.position + offset
        return type(self)(self.message, position, None, None, source)


class ExpressionSyntaxError(ExpressionError):
    """The source is not a well-formed expression."""

    kind = "syntax"


class UnknownNameError(ExpressionError):
    """A function (or, at evaluation, a variable) that does not exist."""

    kind = "unknown_name"


class ExpressionTypeError(ExpressionError):
    """An operator or function applied to values of the wrong type."""

    kind = "type"


class LimitExceededError(ExpressionError):
    """A safety limit (length, depth, cost, size) was exceeded."""

    kind = "limit"


class EvaluationError(ExpressionError):
    """Any other runtime error: division by zero, overflow, missing key, ..."""

    kind = "runtime"


ERROR_CLASSES: dict[str, type[ExpressionError]] = {
    cls.kind: cls
    for cls in (
        ExpressionSyntaxError,
        UnknownNameError,
        ExpressionTypeError,
        LimitExceededError,
        EvaluationError,
    )
}


class Fault(Exception):
    """Internal: an error raised while evaluating. `pos` is filled by the nearest node."""

    kind: ClassVar[str] = "runtime"

    def __init__(self, message: str, pos: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos
        if kind is not None:
            self.kind = kind  # type: ignore[misc]

    def at(self, pos: int) -> Self:
        """Attach a position unless a more precise one is already known."""
        if self.pos is None:
            self.pos = pos
        return self

    def to_public(self, source: str, default_pos: int = 0) -> ExpressionError:
        cls = ERROR_CLASSES.get(self.kind, EvaluationError)
        pos = self.pos if self.pos is not None else default_pos
        return cls(self.message, pos, None, None, source)


class EvalError(Fault):
    """A CEL runtime error. `&&`, `||` and `all`/`exists` may absorb it."""


class LimitError(Fault):
    """A limit was hit while evaluating. Never absorbed: evaluation must stop."""

    kind = "limit"
