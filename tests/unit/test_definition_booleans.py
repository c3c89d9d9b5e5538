"""A YAML `true` where a whole number is expected was read as 1 (`retries: true`, one
retry; `seconds: true`, a one-second sleep; a concurrency limit of 1): refused, naming
the field."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition

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
