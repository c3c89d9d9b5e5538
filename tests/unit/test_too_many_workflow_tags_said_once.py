"""A workflow with more than 50 tags was refused with "tags: tags: 51 tags; at most 50":
the model put the issue's own place ("tags") before its message, and the error's place
said it again."""

from __future__ import annotations

import json

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition


def _issues(tags: dict[str, str]) -> list[str]:
    definition = {"name": "w", "tags": tags, "steps": [{"id": "a", "type": "noop"}]}
    with pytest.raises(DefinitionError) as caught:
        load_definition(json.dumps(definition), "w.json")
    return [str(i) for i in caught.value.issues]


def test_too_many_tags_is_said_once() -> None:
    assert _issues({f"k{i}": "v" for i in range(51)}) == ["tags: 51 tags; at most 50"]


def test_a_bad_tag_still_names_its_key() -> None:
    (issue,) = _issues({"bad key": "v"})
    assert issue.startswith("tags: bad key: a tag key is 1-64 letters"), issue
