"""Conditions that can never be true or false, found at push.

A condition (an edge's ``when``, a while's ``condition``, a retrier's ``when``...) must
evaluate to a boolean; one that is a number, a string, a list or a map fails its step
when it is first evaluated, deep into a run. Two mistakes are common enough to catch
when the definition is pushed: a template written where an expression belongs (``when:
"${steps.a.output.ok}"``), and an expression whose shape alone says it is not a boolean
(``1``, ``params.n + 1``, ``[a, b]``: core/expr/shapes.py, read when it compiles, so the
check costs no second parse). Everything else (a field, a call, a comparison) may be a
boolean and is left to run time. These are push rules (core.dsl.stored): a stored
version is not judged again.
"""

from __future__ import annotations

from podium.core.expr import (
    CompiledExpression,
    CompiledTemplate,
    ExpressionError,
    compile_expression,
)
from podium.core.expr.interpolate import untemplated


def template_problem(source: str) -> str | None:
    """A ``${...}`` template where an expression belongs, anywhere outside a string
    literal (``${params.ok} == true`` was refused as "unexpected character '$'"): the
    message, or None."""
    meant = untemplated(source)
    if meant is None:
        return None
    return f"a condition is an expression, not a template: write {meant[:80]!r} without ${{ and }}"


def shape_problem(compiled: CompiledExpression) -> str | None:
    """The message when the compiled condition is never a boolean, or None."""
    if compiled.shape is None:
        return None
    return (
        f"this condition is always {compiled.shape}, never true or false; compare it (e.g. `x > 0`)"
    )


def condition_problem(source: str) -> str | None:
    """Why ``source`` cannot be a condition (a template, or never a boolean), or None;
    an expression that does not compile is left to the caller's compile (cached)."""
    problem = template_problem(source)
    if problem is not None:
        return problem
    try:
        compiled = compile_expression(source)
    except ExpressionError:
        return None
    return shape_problem(compiled) or constant_problem(compiled)


def constant_problem(compiled: CompiledExpression | CompiledTemplate) -> str | None:
    """A constant argument it fails on whenever evaluated (an unknown time zone, an
    unsupported podium.format directive), said at push with its column; None if none.
    A push rule: a stored version compiles, and fails there at run time as before."""
    if not compiled.problems:
        return None
    problem = compiled.problems[0]
    at = f" (column {problem.column})" if problem.column is not None else ""
    return f"{problem.message}{at}"
