"""A param of the wrong type was refused in Python's words: ``got dict {'a': 1}``,
``got float 0.5``, ``got str 'abc'``. It says the type as the definition language names
it (CEL's ``map``, ``double``, ``string``)."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition


@pytest.mark.parametrize(
    ("declared", "default", "said"),
    [
        ("list", {"a": 1}, "got map {"),
        ("int", 0.5, "got double 0.5"),
        ("int", "abc", "got string 'abc'"),
        ("map", [1], "got list [1]"),
    ],
)
def test_a_default_of_the_wrong_type_names_its_type_in_cel_words(
    declared: str, default: object, said: str
) -> None:
    doc = {
        "name": "typed",
        "params": {"p": {"type": declared, "default": default}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    with pytest.raises(DefinitionError) as refused:
        validate_definition(doc)
    [issue] = refused.value.issues
    assert issue.path == "params.p.default" and said in issue.message, issue.message
