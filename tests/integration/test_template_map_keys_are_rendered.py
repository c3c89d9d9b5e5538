"""A ``${...}`` in a map key of a payload, a request or params is rendered, as in a value.

``payload: {"${params.region}": 1}`` was accepted at push and the function got the key
``"${params.region}"`` as written, with no word anywhere (core/dsl/expressions._tree
rendered map values only). A key is now rendered too, always as text (a key is a
string in JSON), its references checked at push like a value's; two keys that render
the same are an error naming the map, as a repeated key is in CEL."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.load import validate_definition
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

FN = "tests.integration.test_template_map_keys_are_rendered:record"
EVENTS: list[dict[str, Any]] = []


def record(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    EVENTS.append(event)
    return {"ok": True}


@pytest.fixture
def rt(home_rt: LocalRuntime) -> LocalRuntime:
    home_rt.functions["f"] = FN  # shared with its runner
    return home_rt


def _workflow(payload: Any) -> dict[str, Any]:
    return {
        "name": "keys",
        "params": {
            "region": {"type": "string", "default": "emea"},
            "year": {"type": "int", "default": 2024},
        },
        "steps": [{"id": "a", "type": "lambda", "function": "f", "payload": payload}],
    }


def test_a_template_in_a_payload_key_is_rendered(rt: LocalRuntime) -> None:
    """The function got ``{"${params.region}": 1}``; it now gets ``{"emea": 1}``, and a
    key that gives a number is its text (``"2024"``)."""
    rt.push(_workflow({"${params.region}": 1, "by_year": {"${params.year}": "x"}}))
    EVENTS.clear()
    rt.start_run("keys")
    rt.pump()
    [event] = EVENTS
    assert event["payload"] == {"emea": 1, "by_year": {"2024": "x"}}, event["payload"]


def test_a_key_reading_an_unknown_param_is_refused_at_push_naming_it(rt: LocalRuntime) -> None:
    with pytest.raises(DefinitionError) as refused:
        rt.push(_workflow({"${params.regoin}": 1}))
    message = str(refused.value)
    assert "steps[0].payload.${params.regoin}" in message, message
    assert "unknown param 'regoin'" in message and "did you mean 'region'" in message


def test_two_keys_rendering_the_same_fail_the_step_naming_the_map(rt: LocalRuntime) -> None:
    rt.push(_workflow({"m": {"${params.region}": 1, "emea": 2}}))
    run = rt.start_run("keys")
    rt.pump()
    step = rt.store.get_step(run.run_id, "a")
    assert step is not None and step.status is StepStatus.FAILED
    assert "payload.m: the keys '${params.region}' and 'emea' both give 'emea'" in str(
        step.error
    ), step.error


def test_a_typed_step_param_needs_a_plain_name(rt: LocalRuntime) -> None:
    """A step param declared with a type is checked by its name: a template there would
    have been rendered to another name and its value found missing."""
    with pytest.raises(DefinitionError) as refused:
        rt.push(
            {
                "name": "typed",
                "params": {"region": {"type": "string", "default": "emea"}},
                "steps": [
                    {
                        "id": "a",
                        "type": "noop",
                        "params": {"${params.region}": {"type": "int", "value": 1}},
                    }
                ],
            }
        )
    assert "steps[0].params.${params.region}: a param declared with a type" in str(refused.value)


def test_a_stored_version_with_a_key_that_does_not_compile_still_loads() -> None:
    """A version pushed before keys were rendered may hold a key that is not a valid
    template: it loads (an upgrade never stops a version from running) and sends that
    key as written, as it did."""
    defn = validate_definition(_workflow({"${oops": 1, "${params.region}": 2}), stored=True)
    payload = WorkflowExpressions.of(defn, stored=True).payloads["a"]
    rendered = payload.render({"params": {"region": "emea", "year": 1}, "run": {}, "steps": {}})
    assert rendered == {"${oops": 1, "emea": 2}
    with pytest.raises(DefinitionError):  # at push, it is refused
        WorkflowExpressions.of(validate_definition(_workflow({"${oops": 1})))
