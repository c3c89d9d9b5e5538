"""References in expressions are checked when a definition is validated."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.load import load_definition


def issues(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        load_definition(text)
    return [str(i) for i in exc.value.issues]


def test_param_cycle_is_an_error() -> None:
    found = issues(
        """
name: p
params:
  a: {type: string, default: "${params.b}"}
  b: {type: string, default: "x${params.a}"}
steps: [{id: s, type: noop}]
"""
    )
    assert found == ["params.a.default: params refer to each other in a cycle: a -> b -> a"]


def test_param_templates_may_not_read_steps() -> None:
    found = issues(
        """
name: p
params:
  a: {type: string, default: "${steps.s.output}"}
steps: [{id: s, type: noop}]
"""
    )
    assert found == ["params.a.default: unknown name 'steps' (column 3); use params, run"]


def test_conditions_may_read_only_upstream_steps_and_known_names() -> None:
    found = issues(
        """
name: c
steps:
  - {id: a, type: noop}
  - {id: side, type: noop}
  - id: b
    type: noop
    depends_on:
      - {step: a, when: "steps.side.output == 1 && prams.x"}
"""
    )
    assert any("step 'side' (column 1) is not upstream of this step" in m for m in found)
    assert (
        "steps[2].depends_on[0].when: unknown name 'prams' (column 27) (did you mean 'params'?); use params, run, steps"
        in found
    )


def test_syntax_errors_carry_the_column() -> None:
    (msg,) = issues(
        """
name: s
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [{step: a, when: "1 + (2"}]}
"""
    )
    assert msg.startswith("steps[1].depends_on[0].when:")
    assert "column" in msg


def test_param_order_is_topological() -> None:
    defn = load_definition(
        """
name: o
params:
  c: {type: string, default: "${params.b}-c"}
  b: {type: string, default: "${params.a}-b"}
  a: {type: string, default: "a"}
steps: [{id: s, type: noop}]
"""
    )
    exprs = WorkflowExpressions.of(defn)
    assert (
        exprs.param_order.index("a") < exprs.param_order.index("b") < exprs.param_order.index("c")
    )
    values = exprs.evaluate_params({"a": "a"}, {"id": "r"})
    assert values == {"a": "a", "b": "a-b", "c": "a-b-c"}


def test_edges_accept_ids_and_conditions() -> None:
    defn = load_definition(
        """
name: e
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a, {step: a2, when: "true"}]}
  - {id: a2, type: noop}
"""
    )
    b = defn.step("b")
    assert b.dependency_ids == ["a", "a2"]
    assert [e.when for e in b.edges] == [None, "true"]
