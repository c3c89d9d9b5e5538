"""A lone surrogate (a ``\\ud800`` escape in a JSON definition: what a non-UTF-8 byte
becomes) got pydantic's "Input should be a valid string, unable to parse raw data as a
unicode string" in a name, a step id or a function, and crashed validation with a
UnicodeEncodeError traceback in a duration (the validator's message quoted it back).
Everywhere else it got text_checks.LONE_SURROGATE_FIX, naming the place. Found by review
R33e."""

from __future__ import annotations

import json

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, validate_definition
from podium.core.text_checks import LONE_SURROGATE_FIX, find_lone_surrogate


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"name": "w\ud800", "steps": [{"id": "a", "type": "noop"}]}, "name"),
        ({"name": "w", "steps": [{"id": "a\ud800", "type": "noop"}]}, "steps[0].id"),
        (
            {"name": "w", "steps": [{"id": "a", "type": "lambda", "function": "f\ud800"}]},
            "steps[0].function",
        ),
        ({"name": "w", "timeout": "\ud800", "steps": [{"id": "a", "type": "noop"}]}, "timeout"),
        (
            {"name": "w", "steps": [{"id": "a", "type": "noop", "timeout": "1\udcffh"}]},
            "steps[0].timeout",
        ),
        (
            {"name": "w", "steps": [{"id": "a", "type": "noop", "x\udcff": 1}]},
            "steps[0].x\\udcff",
        ),
    ],
)
def test_a_lone_surrogate_anywhere_in_a_definition_is_named_with_the_fix(
    document: dict[str, object], path: str
) -> None:
    try:
        with pytest.raises(DefinitionError) as caught:
            load_definition(json.dumps(document))
    except UnicodeEncodeError as exc:
        raise AssertionError(f"a traceback instead of a definition error: {exc!r}") from None
    assert [(i.path, i.message) for i in caught.value.issues] == [(path, LONE_SURROGATE_FIX)]
    str(caught.value).encode("utf-8")  # printable: the key is shown escaped


def test_the_same_holds_for_a_definition_given_as_data() -> None:
    """The API, podium.testing and LocalRuntime.push validate a dict, not text."""
    with pytest.raises(DefinitionError) as caught:
        validate_definition(
            {"name": "w", "steps": [{"id": "a", "type": "noop", "timeout": "\ud800"}]}
        )
    assert caught.value.issues[0].path == "steps[0].timeout"


def test_find_lone_surrogate_names_a_key_escaped_and_finds_none_in_utf8_text() -> None:
    assert find_lone_surrogate({"a": [{"k\ud800": 1}]}) == "a[0].k\\ud800"
    assert find_lone_surrogate({"k\ud800": 1}) == "k\\ud800"
    assert find_lone_surrogate({"a": ["ok", "é", "😀", {"b": "x\udc00"}]}) == "a[3].b"
    assert find_lone_surrogate({"é": ["😀", {1: None}], "b": 1.5}) is None
