"""A definition value that fails its field's pattern is told what that field takes. Before,
every pattern core/dsl/load.py had no words for got the rules of a step id ("use
letters, digits and '_'"), which for a percentage, an AWS name, an HTTP header or a
workflow name forbids characters the field allows and never says what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition

ID_WORDS = "is not a valid id"


def issues_of(step: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(DefinitionError) as caught:
        validate_definition({"name": "w", "steps": [step]})
    return {i.path: i.message for i in caught.value.issues}


def foreach(tolerated: Any) -> dict[str, Any]:
    return {
        "id": "each",
        "type": "foreach",
        "over": {"i": [1, 2]},
        "on_failure": "continue",
        "tolerated_failures": tolerated,
        "steps": [{"id": "x", "type": "noop"}],
    }


@pytest.mark.parametrize("value", ["101%", "-1%", "10 %"])
def test_a_bad_tolerated_failures_percentage_says_what_a_percentage_is(value: str) -> None:
    # Was: "Input should be a valid integer, unable to parse string as an integer"
    # and "'101%' is not a valid id: use letters, digits and '_' ...".
    said = " ".join(issues_of(foreach(value)).values())
    assert ID_WORDS not in said, said
    assert "100" in said and "%" in said, said  # the range of a percentage: 0% to 100%


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"id": "s", "type": "subworkflow", "workflow": "1abc"}, "steps[0].workflow"),
        ({"id": "g", "type": "glue_job", "job_name": "a b"}, "steps[0].job_name"),
        (
            {
                "id": "h",
                "type": "http",
                "url": "https://x.example.com",
                "auth": {"secret": "s", "header": "X Y"},
            },
            "steps[0].auth.header",
        ),
        (
            {
                "id": "e",
                "type": "ecs_task",
                "cluster": "c",
                "task_definition": "t",
                "container": "c",
                "launch_type": "FARGATE",
                "network": {"subnets": ["sub net"]},
            },
            "steps[0].network.subnets[0]",
        ),
    ],
)
def test_a_name_that_is_not_an_id_is_not_told_the_rules_of_an_id(
    step: dict[str, Any], field: str
) -> None:
    # Before the fix, each says "... is not a valid id: use letters, digits and '_', starting with
    # a letter or '_'", though a workflow name takes '-', an AWS name ':' '/' '-' etc.
    issues = issues_of(step)
    assert field in issues, issues
    assert ID_WORDS not in issues[field], issues[field]
