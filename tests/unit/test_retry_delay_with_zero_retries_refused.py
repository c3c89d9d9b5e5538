"""docs/workflow-language.md, Retries: "`retry_delay_seconds` without `retries` is
refused at push (alone it would do nothing)". With `retries: 0` it did nothing either
(no retry is made), yet it was accepted: the check looked for `retries` missing only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, validate_definition

MESSAGE = (
    "retry_delay_seconds needs 'retries: N' beside it, N at least 1 (with retries: 0 no"
    " retry is made: the delay would do nothing)"
)


def _workflow(**step: Any) -> dict[str, Any]:
    return {"name": "w", "steps": [{"id": "a", "type": "noop", **step}]}


def _issues(definition: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(json.dumps(definition), "w.json")
    return [str(i) for i in caught.value.issues]


@pytest.mark.parametrize("kind", ["noop", "http"])
def test_a_retry_delay_with_zero_retries_is_refused(kind: str) -> None:
    """An http step's `retries: 0` turns its default retries off: a delay beside it
    waits for nothing too."""
    extra = {"url": "https://example.com"} if kind == "http" else {}
    definition = _workflow(type=kind, retries=0, retry_delay_seconds=5, **extra)
    assert _issues(definition) == [f"steps[0]: {MESSAGE}"]


def test_the_other_forms_are_kept() -> None:
    assert _issues(_workflow(retry_delay_seconds=5)) == [
        "steps[0]: retry_delay_seconds needs 'retries: N' beside it (how many retries)"
    ]
    load_definition(json.dumps(_workflow(retries=0)), "w.json")
    load_definition(json.dumps(_workflow(retries=2, retry_delay_seconds=5)), "w.json")


def test_a_stored_version_with_both_still_loads() -> None:
    """A push rule: a version pushed before it keeps loading (core.dsl.stored)."""
    defn = validate_definition(_workflow(retries=0, retry_delay_seconds=5), stored=True)
    assert defn.steps[0].retriers == ()
