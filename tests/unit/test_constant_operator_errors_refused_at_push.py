"""Operators on literals that fail whenever evaluated were accepted at push (review R31e).

``'a' + 1 == 'a1'`` (no overload), ``1/0 == 0`` (divide by zero) or an int overflow
between two literals compiled, were pushed, and failed every run when it reached them.
A checked compile now computes operators on literals once (core/expr/compiler
``_fold_operators``) and records one that fails as a problem at its operator, which a
push refuses with the position, as a constant time zone is; the expression still
compiles (a stored version loads, and fails at run time as it did).
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.load import validate_definition
from podium.core.expr import EvaluationError, compile_expression


def _condition(when: str) -> dict[str, Any]:
    return {
        "name": "w",
        "steps": [
            {"id": "a", "type": "noop"},
            {"id": "b", "type": "noop", "depends_on": [{"step": "a", "when": when}]},
        ],
    }


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("'a' + 1 == 'a1'", "no matching overload for _+_(string, int) at column 5"),
        ("1/0 == 0", "divide by zero at column 2"),
        ("(1 + 2) / 0 > 1", "divide by zero at column 9"),  # the inner sum is computed
        ("9223372036854775807 + 1 > 0", "int overflow at column 21"),
        ("steps.a.output.n > 'x' * 2", "no matching overload for _*_(string, int)"),
    ],
)
def test_a_failing_operator_on_literals_is_refused_at_push(when: str, said: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        validate_definition(_condition(when))
    assert f"steps[1].depends_on[0].when: {said}" in str(refused.value)


def test_in_a_template_too() -> None:
    wf = {"name": "w", "steps": [{"id": "a", "type": "noop", "params": {"n": "x/${1 % 0}"}}]}
    with pytest.raises(DefinitionError, match=r"steps\[0\]\.params\.n: modulus by zero"):
        validate_definition(wf)


def test_a_stored_version_still_loads_and_fails_when_run() -> None:
    defn = validate_definition(_condition("1/0 == 0"), stored=True)
    assert WorkflowExpressions.of(defn, stored=True)
    with pytest.raises(EvaluationError, match="divide by zero"):
        compile_expression("1/0 == 0").evaluate({})


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("2 * 60 == 120", True),
        ("'a' + 'b' + 'c'", "abc"),
        ("1 == 'a'", False),  # heterogeneous equality is no error
        ("0.0 / 0.0 != 0.0 / 0.0", True),  # NaN
        ("duration('1h') + duration('30m') == duration('90m')", True),
    ],
)
def test_operators_on_literals_that_work_are_accepted(source: str, value: object) -> None:
    """Guard (passed before): computed once, the same value."""
    ce = compile_expression(source)
    assert ce.problems == ()
    assert ce.evaluate({}) == value


def test_an_unchecked_compile_records_nothing() -> None:
    """Guard: an unchecked compile (CEL's unchecked mode) leaves errors to run time."""
    assert compile_expression("1/0 == 0", checked=False).problems == ()
