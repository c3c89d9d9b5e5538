"""The editor schema (``podium schema``, core/dsl/schema.py) gave every integer field a
string branch ``^[0-9]+$``, narrower than validate's lax int: the editor marked as
wrong a quoted number the push takes (" 3", "+3", "3.0"). (A quoted number out of
range is still not marked by the editor: JSON Schema compares numbers only.)"""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.load import validate_definition
from podium.core.dsl.schema import workflow_json_schema

jsonschema = pytest.importorskip("jsonschema")  # through moto's server extra only


def _errors(definition: dict[str, Any]) -> list[str]:
    schema = workflow_json_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [e.message for e in validator.iter_errors(definition)]


def _step(**fields: Any) -> dict[str, Any]:
    return {"name": "w", "steps": [{"id": "a", "type": "noop", **fields}]}


@pytest.mark.parametrize("retries", ["3.0", "+3", " 3"])
def test_a_quoted_number_validate_takes_is_not_marked(retries: str) -> None:
    """validate reads `retries: "3.0"` (and "+3", " 3") as 3; the schema marked them
    wrong."""
    assert validate_definition(_step(retries=retries)).steps[0].retries == 3
    assert _errors(_step(retries=retries)) == []
