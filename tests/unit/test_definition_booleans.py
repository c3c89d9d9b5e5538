"""A YAML `true` where a whole number is expected was read as 1 (`retries: true`, one
retry; `seconds: true`, a one-second sleep; a concurrency limit of 1): refused, naming
the field."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from pydantic import BaseModel, BeforeValidator

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.dsl.models import WorkflowDefinition

LAMBDA = {"id": "a", "type": "lambda", "function": "f"}


@pytest.mark.parametrize(
    ("defn", "where"),
    [
        ({"steps": [{**LAMBDA, "retries": True}]}, "steps[0].retries"),
        (
            {"steps": [{**LAMBDA, "retries": 1, "retry_delay_seconds": True}]},
            "steps[0].retry_delay_seconds",
        ),
        (
            {"steps": [{**LAMBDA, "retry": [{"max_attempts": False}]}]},
            "steps[0].retry[0].max_attempts",
        ),
        ({"steps": [{"id": "a", "type": "sleep", "seconds": True}]}, "steps[0].seconds"),
        (
            {"steps": [{"id": "a", "type": "noop", "concurrency": {"key": "k", "limit": True}}]},
            "steps[0].concurrency.limit",
        ),
        (
            {"steps": [{"id": "a", "type": "noop"}], "max_parallel_steps": True},
            "max_parallel_steps",
        ),
        (
            {"steps": [{"id": "a", "type": "wait_for_callback", "heartbeat_seconds": True}]},
            "steps[0].heartbeat_seconds",
        ),
        (
            {
                "steps": [
                    {"id": "a", "type": "http", "url": "https://x", "max_response_bytes": True}
                ]
            },
            "steps[0].max_response_bytes",
        ),
        (
            {
                "steps": [
                    {
                        "id": "a",
                        "type": "ecs_task",
                        "cluster": "c",
                        "task_definition": "t",
                        "capacity_provider": [{"provider": "FARGATE_SPOT", "weight": True}],
                    }
                ]
            },
            "steps[0].capacity_provider[0].weight",
        ),
        (
            {
                "steps": [{"id": "a", "type": "noop"}],
                "triggers": [{"cron": "0 * * * *", "catchup": "all", "max_catchup": True}],
            },
            "triggers[0].max_catchup",
        ),
    ],
)
def test_a_boolean_is_not_a_whole_number(defn: dict[str, Any], where: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_definition({"name": "w", **defn})
    found = [str(i) for i in caught.value.issues]
    assert any(i.startswith(f"{where}:") and "not the boolean" in i for i in found), found


def test_whole_numbers_still_pass() -> None:
    validate_definition(
        {
            "name": "w",
            "max_parallel_steps": 2,
            "steps": [{**LAMBDA, "retries": 2, "retry_delay_seconds": 0}],
        }
    )


def _args(tp: Any) -> list[Any]:
    return [a for a in typing.get_args(tp) if not isinstance(a, str | int | float)]


def _holds_int(tp: Any) -> bool:
    return tp is int or any(_holds_int(a) for a in _args(tp))


def _refuses(metadata: Any) -> bool:
    return any(
        isinstance(m, BeforeValidator) and getattr(m.func, "refuses_booleans", False)
        for m in metadata
    )


def _refuses_inside(tp: Any) -> bool:
    if typing.get_origin(tp) is typing.Annotated and _refuses(tp.__metadata__):
        return True
    return any(_refuses_inside(a) for a in _args(tp))


def _models(tp: Any) -> list[type[BaseModel]]:
    found = [tp] if inspect.isclass(tp) and issubclass(tp, BaseModel) else []
    return found + [m for a in _args(tp) for m in _models(a)]


# Fields that hold the user's data as JSON, not a setting: a boolean there is a boolean.
DATA_FIELDS = {"LambdaStep.payload"}


def test_every_whole_number_field_refuses_booleans() -> None:
    """Walks every model a definition is made of: an int field without the refusal
    (core.dsl.numbers) would read ``true`` as 1, as four did after the first sweep."""
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = [WorkflowDefinition]
    missing = []
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            todo += _models(field.annotation)
            if f"{model.__name__}.{name}" in DATA_FIELDS:
                continue
            if _holds_int(field.annotation) and not (
                _refuses(field.metadata) or _refuses_inside(field.annotation)
            ):
                missing.append(f"{model.__name__}.{name}")
    assert len(seen) > 20  # the walk reached the step types, triggers, retriers
    assert missing == []


def test_a_whole_number_written_as_a_string_is_read_and_any_other_string_refused() -> None:
    """The decision (docs/workflow-language.md): `retries: "3"` reads as 3, as
    CloudFormation reads numbers in its templates; "3.5" and "three" are refused."""
    defn = validate_definition({"name": "n", "steps": [{**LAMBDA, "retries": "3"}]})
    assert defn.steps[0].retries == 3
    for bad in ("3.5", "three"):
        with pytest.raises(DefinitionError) as refused:
            validate_definition({"name": "n", "steps": [{**LAMBDA, "retries": bad}]})
        assert refused.value.issues[0].path == "steps[0].retries"
