"""``match`` values (a step's wait_for, a signal trigger's) are compared as written with
the params of stored signals: nothing renders them, so a ``${...}`` there never matches
(the step would wait out its 10-day timeout). The push refuses it, naming the value."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition

STEPS = [{"id": "first", "type": "noop"}]


def issues(defn: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(DefinitionError) as caught:
        validate_definition(defn)
    return {i.path: i.message for i in caught.value.issues}


def waiting(match: dict[str, Any]) -> dict[str, Any]:
    step = {"id": "report", "type": "noop", "wait_for": [{"signal": "sales_ready", "match": match}]}
    return {"name": "w", "params": {"day": {"type": "string"}}, "steps": [*STEPS, step]}


@pytest.mark.parametrize(
    "match",
    [{"day": "${params.day}"}, {"day": {"op": ">=", "value": "x-${run.logical_date}"}}],
)
def test_a_template_in_a_wait_for_match_is_refused(match: dict[str, Any]) -> None:
    found = issues(waiting(match))
    assert list(found) == ["steps[1].wait_for[0].match.day"]
    message = found["steps[1].wait_for[0].match.day"]
    assert "match values are literals" in message and "${" in message
    assert "signal trigger" in message and "join_keys" in message  # what to write instead


def test_literal_values_are_still_accepted() -> None:
    defn = validate_definition(waiting({"day": "2026-01-15", "rows": {"op": ">", "value": 0}}))
    assert defn.steps[1].wait_for[0].match == {"day": "2026-01-15", "rows": {"op": ">", "value": 0}}


def test_a_template_in_a_signal_triggers_match_is_refused() -> None:
    source = {"names": ["sales_ready"], "match": {"sales_ready": {"day": "${params.day}"}}}
    found = issues({"name": "t", "steps": STEPS, "triggers": [{"signal": source}]})
    assert list(found) == ["triggers[0].signal.match.sales_ready.day"]
    message = found["triggers[0].signal.match.sales_ready.day"]
    assert "match values are literals" in message
    assert "join_keys" in message and "condition" in message
