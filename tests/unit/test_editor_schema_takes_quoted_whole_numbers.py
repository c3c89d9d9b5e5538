"""`podium schema` is "the JSON Schema for your editor" (README step 2), but it typed
every whole-number field as a bare integer: the editor marked `retries: "3"` (or
`seconds: "90"`, `limit: "2"`, a subworkflow's `version: "3"`) as an error while
`podium validate` and push accept it, as docs/workflow-language.md says ("A whole number
written as a string ... is read as the number")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition
from podium.core.dsl.schema import WHOLE_NUMBER_TEXT, workflow_json_schema


def _integers(node: Any, path: str = "") -> Iterator[tuple[str, list[Any]]]:
    """(path, the members of the union it is in) of every integer of the schema; a lone
    integer is a union of one."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _integers(item, f"{path}/{i}")
    elif isinstance(node, dict):
        members = node.get("anyOf")
        if isinstance(members, list):
            for i, member in enumerate(members):
                if isinstance(member, dict) and member.get("type") == "integer":
                    yield f"{path}/anyOf/{i}", members
        elif node.get("type") == "integer":
            yield path, [node]
        for key, value in node.items():
            if key != "anyOf":
                yield from _integers(value, f"{path}/{key}")
            else:
                for i, member in enumerate(value):
                    if not (isinstance(member, dict) and member.get("type") == "integer"):
                        yield from _integers(member, f"{path}/anyOf/{i}")


def _takes_digits(members: list[Any]) -> bool:
    """A member of the union takes "3": the digits string, or any string at all."""
    return any(
        m == WHOLE_NUMBER_TEXT
        or (m.get("type") == "string" and not {"pattern", "enum", "const"} & m.keys())
        for m in members
    )


def test_every_whole_number_of_the_schema_also_takes_a_string_of_digits() -> None:
    """Every field typed integer (retries, seconds, limit, concurrency, max_iterations,
    max_parallel_steps, parallel, heartbeat_seconds, max_catchup, max_response_bytes,
    version, tolerated_failures ...) was integer only."""
    schema = workflow_json_schema()
    found = list(_integers(schema))
    assert len(found) > 40  # every step type's retries and retry_delay_seconds, and more
    assert [path for path, members in found if not _takes_digits(members)] == []
    # The number's own bounds stay on the integer; the field keeps its title and default.
    concurrency = schema["$defs"]["ForeachStep"]["properties"]["concurrency"]
    assert concurrency["default"] == 20 and concurrency["title"] == "Concurrency"
    assert concurrency["anyOf"] == [
        {"maximum": 1000, "minimum": 1, "type": "integer"},
        WHOLE_NUMBER_TEXT,
    ]


def test_the_editor_schema_accepts_what_validate_accepts_for_a_quoted_whole_number() -> None:
    """Checked with a JSON Schema validator, as an editor does (jsonschema is in the dev
    environment through moto's server extra, not a dependency of its own)."""
    jsonschema = pytest.importorskip("jsonschema")
    definition = {
        "name": "etl",
        "max_parallel_steps": "4",
        "run_strategy": {"parallel": "2"},
        "steps": [
            {
                "id": "extract",
                "type": "lambda",
                "function": "f",
                "retries": "3",
                "concurrency": {"key": "db", "limit": "2"},
            },
            {"id": "wait", "type": "sleep", "seconds": "90", "depends_on": ["extract"]},
            {"id": "sub", "type": "subworkflow", "workflow": "daily", "version": "3"},
            {
                "id": "grid",
                "type": "foreach",
                "over": {"x": [1, 2]},
                "concurrency": "2",
                "on_failure": "continue",
                "tolerated_failures": "1",
                "steps": [{"id": "a", "type": "noop"}],
            },
        ],
        "triggers": [{"rate": "1h", "catchup": "all", "max_catchup": "5"}],
    }
    try:
        load_definition(json.dumps(definition), "workflow.json")  # validate accepts it
    except DefinitionError as exc:
        pytest.fail("refused: " + "; ".join(str(i) for i in exc.issues))
    validator = jsonschema.Draft202012Validator(workflow_json_schema())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:80]}"
        for e in validator.iter_errors(definition)
    ]
    assert errors == []
    # What validate refuses, the schema still does.
    bad = {**definition, "steps": [{"id": "w", "type": "sleep", "seconds": "9.5"}]}
    assert list(validator.iter_errors(bad))
