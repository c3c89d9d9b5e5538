"""docs/expressions.md: "Constant arguments are checked at compile time:
timestamp('2024-13-01T00:00:00Z') and s.matches('(') fail when the definition is
pushed, not when the run gets there." A constant time zone that does not exist
('Europe/Pari') or a constant podium.format directive that is not supported (%k) was
accepted at push, and every run then failed at that step ("unknown time zone",
"unsupported format directive"). They are now refused at push, naming the field, in
templates and conditions alike; a version stored before this check still loads (it
fails there at run time, as it did)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.load import validate_definition
from podium.local.runtime import LocalRuntime


def _with_param(template: str) -> dict[str, Any]:
    return {"name": "consts", "steps": [{"id": "a", "type": "noop", "params": {"day": template}}]}


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("${podium.date(run.start_time, 'Europe/Pari')}", "unknown time zone 'Europe/Pari'"),
        ("${run.start_time.getHours('Europe/Pari')}", "unknown time zone 'Europe/Pari'"),
        ("${podium.format(run.start_time, 'dt=%Y-%m-%d/h=%k')}", "directive '%k'"),
        ("${podium.format(run.start_time, '%Y', 'Mars/Base')}", "unknown time zone"),
    ],
)
def test_constant_arguments_are_checked_when_the_definition_is_pushed(
    home_rt: LocalRuntime, template: str, said: str
) -> None:
    with pytest.raises(DefinitionError) as refused:
        home_rt.push(_with_param(template))
    message = str(refused.value)
    assert "steps[0].params.day" in message and said in message, message


def test_a_constant_zone_in_a_condition_is_checked_at_push(home_rt: LocalRuntime) -> None:
    with pytest.raises(DefinitionError) as refused:
        home_rt.push(
            {
                "name": "cond",
                "steps": [
                    {"id": "a", "type": "noop"},
                    {
                        "id": "b",
                        "type": "noop",
                        "depends_on": [
                            {"step": "a", "when": "run.start_time.getHours('Europe/Pari') > 3"}
                        ],
                    },
                ],
            }
        )
    assert "steps[1].depends_on[0].when: unknown time zone 'Europe/Pari'" in str(refused.value)


def test_good_constants_and_variable_arguments_are_accepted(home_rt: LocalRuntime) -> None:
    home_rt.push(_with_param("${podium.format(run.start_time, '%Y/%m', 'Europe/Paris')}"))
    home_rt.push(_with_param("${podium.date(run.start_time, run.workflow)}"))  # checked when run


def test_a_stored_version_with_a_bad_constant_still_loads() -> None:
    defn = validate_definition(_with_param("${podium.date(run.start_time, 'X/Y')}"), stored=True)
    assert "a" in WorkflowExpressions.of(defn, stored=True).step_params
