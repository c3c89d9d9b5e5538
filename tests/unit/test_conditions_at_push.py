"""Conditions that can never be true or false are refused at push: they failed their
step only when first evaluated, deep into a run (``when: "(((1)))"`` or a template
``when: "${steps.a.output.ok}"``, which read as a syntax error about a '$')."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.compiled import CompiledWorkflow


def edge(when: str) -> dict[str, Any]:
    return {
        "name": "w",
        "params": {"n": {"type": "int", "default": 1}},
        "steps": [
            {"id": "a", "type": "noop"},
            {"id": "b", "type": "noop", "depends_on": [{"step": "a", "when": when}]},
        ],
    }


def issue(doc: dict[str, Any]) -> str:
    with pytest.raises(DefinitionError) as exc:
        validate_definition(doc)
    (only,) = exc.value.issues
    return str(only)


@pytest.mark.parametrize(
    ("when", "kind"),
    [
        ("(((1)))", "a number"),
        ("'yes'", "a string"),
        ("params.n + 1", "a number, string or list"),
        ("params.n * 2", "a number, string or list"),
        ("-params.n", "a number"),
        ("[true]", "a list"),
        ("{'a': true}", "a map"),
        ("null", "null"),
        ("params.n > 0 ? 1 : 2", "a number"),
    ],
)
def test_a_when_that_is_never_a_boolean_is_refused(when: str, kind: str) -> None:
    assert issue(edge(when)) == (
        f"steps[1].depends_on[0].when: this condition is always {kind}, never true or"
        " false; compare it (e.g. `x > 0`)"
    )


def test_a_template_where_a_condition_belongs_names_the_fix() -> None:
    assert issue(edge("${params.n > 0}")) == (
        "steps[1].depends_on[0].when: a condition is an expression, not a template:"
        " write 'params.n > 0' without ${ and }"
    )


@pytest.mark.parametrize(
    "when",
    [
        "params.n > 0",
        "true",
        "!(params.n > 0)",
        "steps.a.output.ok",
        "has(steps.a.output.ok)",
        "size(steps.a.output) > 0",
        "params.n > 0 ? steps.a.output.ok : false",
        "params.n in [1, 2]",
        "params.n > 0 && steps.a.output.ok",
    ],
)
def test_conditions_that_may_be_booleans_pass(when: str) -> None:
    validate_definition(edge(when))


def test_a_stored_version_with_such_a_condition_still_loads() -> None:
    """A push rule: a version stored before it still runs (and fails that edge)."""
    CompiledWorkflow.of(edge("(((1)))"))


def test_while_retry_trigger_success_and_validate_conditions_are_checked() -> None:
    loop = {
        "id": "loop",
        "type": "while",
        "state": {"n": 0},
        "condition": "state.n + 1",
        "update": {"n": "${state.n + 1}"},
        "steps": [{"id": "x", "type": "noop"}],
    }
    assert "steps[0].condition: this condition is always a number" in issue(
        {"name": "w", "steps": [loop]}
    )
    retry = {"id": "a", "type": "noop", "retry": [{"when": "${error.attempt < 3}"}]}
    assert "retry condition: a condition is an expression, not a template" in issue(
        {"name": "w", "steps": [retry]}
    )
    trigger = {"id": "t", "signal": {"names": ["ready"], "condition": "'x'"}}
    assert "condition: this condition is always a string" in issue(
        {"name": "w", "steps": [{"id": "a", "type": "noop"}], "triggers": [trigger]}
    )
    http = {"id": "h", "type": "http", "url": "https://example.com", "success": "response.status"}
    validate_definition({"name": "w", "steps": [http]})  # a field: may be a boolean
    http["success"] = "[response.status]"
    assert "success: this condition is always a list" in issue({"name": "w", "steps": [http]})
    param = {"type": "int", "validate": "value * 2"}
    assert "validate: this condition is always a number" in issue(
        {"name": "w", "params": {"n": param}, "steps": [{"id": "a", "type": "noop"}]}
    )


def test_the_check_costs_no_second_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """It parsed every condition again, uncached: validating 100,000 steps with a `when`
    went from 5 s to 15 s. The shape is now read when the expression compiles (cached)."""
    from podium.core.expr import parser

    parsed: list[str] = []
    lark = parser._lark()

    class Counting:
        def parse(self, source: str) -> Any:
            parsed.append(source)
            return lark.parse(source)

    monkeypatch.setattr(parser, "_lark", Counting)
    when = "params.n > 7 && params.n != 12345"  # not compiled (cached) before
    doc = edge(when)
    doc["steps"] += [
        {"id": f"c{i}", "type": "noop", "depends_on": [{"step": "a", "when": when}]}
        for i in range(50)
    ]
    validate_definition(doc)
    assert parsed.count(when) == 1
