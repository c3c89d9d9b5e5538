"""Podium's expression language: a safe subset of CEL (Common Expression Language).

    ce = compile_expression("params.x > 3 && size(steps.a.output.rows) > 0")
    ce.references          # frozenset({"params.x", "steps.a.output.rows"})
    ce.evaluate({"params": {"x": 5}, "steps": {"a": {"output": {"rows": [1]}}}})  # True

    tpl = compile_template("s3://bucket/${params.region}/${run.logical_date}.csv")
    tpl.render(bindings)

See docs/expressions.md for the language reference and the limits.
"""

from .convert import from_cel, to_cel
from .errors import (
    EvaluationError,
    ExpressionError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    LimitExceededError,
    UnknownNameError,
)
from .expression import CompiledExpression, compile_expression
from .interpolate import CompiledTemplate, compile_template
from .limits import DEFAULT_LIMITS, Limits

__all__ = [
    "DEFAULT_LIMITS",
    "CompiledExpression",
    "CompiledTemplate",
    "EvaluationError",
    "ExpressionError",
    "ExpressionSyntaxError",
    "ExpressionTypeError",
    "LimitExceededError",
    "Limits",
    "UnknownNameError",
    "compile_expression",
    "compile_template",
    "from_cel",
    "to_cel",
]
