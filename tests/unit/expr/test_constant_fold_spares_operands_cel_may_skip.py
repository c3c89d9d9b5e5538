"""A checked compile folds operators on literals and records one that fails as a
problem a push refuses (core/expr/compiler.py ``_fold_operators``), meant for operators
"that fail whenever evaluated". It folded every constant operand, also one a CEL
``&&``, ``||`` or ``?:`` never evaluates (or absorbs: ``false && error`` is false), so
a condition that evaluates fine on every run was refused at push."""

from __future__ import annotations

import pytest

from podium.core.dsl.load import validate_definition
from podium.core.expr import compile_expression
from tests.unit.test_constant_operator_errors_refused_at_push import _condition


@pytest.mark.parametrize(
    ("when", "value"),
    [
        ("false && 1/0 == 0", False),
        ("true || 1/0 == 0", True),
        ("true ? true : 1/0 == 0", True),
    ],
)
def test_an_operand_never_evaluated_is_not_refused(when: str, value: bool) -> None:
    """`when: "true || 1/0 == 0"` evaluates to true on every run, yet a push refuses it
    ("divide by zero at column 10"). Should: only an operator that is evaluated
    whenever the expression is (not one under a short-circuit or a branch) is refused;
    or fold the whole &&/||/?: first."""
    assert compile_expression(when).evaluate({}) is value  # never fails when run
    validate_definition(_condition(when))
