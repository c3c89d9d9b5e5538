"""docs/workflow-language.md: a ``${...}`` template where a condition belongs is
refused with "a condition is an expression, not a template: write ... without ${ and
}". Only a condition that was exactly one template got it (core/dsl/conditions
.template_problem): ``when: "${params.ok} == true"`` was refused with "unexpected
character '$' at column 1", which does not say what is wrong. The hint is now given
for a ``${`` anywhere outside a string literal, with the expression meant."""

from __future__ import annotations

import pytest

from podium.core.dsl.conditions import template_problem
from podium.core.dsl.errors import DefinitionError
from podium.local.runtime import LocalRuntime


def test_a_template_inside_a_longer_condition_gets_the_template_hint(home_rt: LocalRuntime) -> None:
    with pytest.raises(DefinitionError) as refused:
        home_rt.push(
            {
                "name": "cond",
                "params": {"ok": {"type": "bool", "default": True}},
                "steps": [
                    {"id": "a", "type": "noop"},
                    {
                        "id": "b",
                        "type": "noop",
                        "depends_on": [{"step": "a", "when": "${params.ok} == true"}],
                    },
                ],
            }
        )
    message = str(refused.value)
    assert (
        "steps[1].depends_on[0].when: a condition is an expression, not a template:"
        " write 'params.ok == true' without ${ and }"
    ) in message, message


def test_a_template_in_a_string_literal_is_text() -> None:
    assert template_problem("params.s == '${x}'") is None
    assert template_problem('a == "}" && ${b}') is not None
