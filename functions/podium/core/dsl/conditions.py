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

from podium.core.expr import CompiledExpression, ExpressionError, compile_expression


def template_problem(source: str) -> str | None:
    """A ``${...}`` template where an expression belongs: the message, or None."""
    text = source.strip()
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        inner = text[2:-1].strip()
        return (
            f"a condition is an expression, not a template: write {inner[:80]!r} without ${{ and }}"
        )
    return None


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
        return shape_problem(compile_expression(source))
    except ExpressionError:
        return None
