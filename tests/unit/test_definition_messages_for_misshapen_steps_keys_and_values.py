"""Definitions written wrong in ways users do write them got pydantic's own words (or a
path that was no path) instead of a message naming the place and the fix: a step that
is not a map, a key YAML reads as null, a number or a boolean, ``type:`` left empty, a
value of a fixed set written in the wrong case. Found by review R33e."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition

_PYDANTIC_WORDS = (
    "Input should be",
    "Keys should be strings",
    "unable to parse raw data",
    "Input tag",
)


def _issues(text: str) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(text)
    issues = [(issue.path, issue.message) for issue in caught.value.issues]
    for _, message in issues:
        assert not any(words in message for words in _PYDANTIC_WORDS), message
    return issues


@pytest.mark.parametrize(
    ("text", "path", "said"),
    [
        ("name: w\nsteps:\n  - extract\n", "steps[0]", "'extract' is not a step"),
        ("name: w\nsteps:\n  - {id: a, type: noop}\n  -\n", "steps[1]", "an empty entry"),
        ("name: w\nsteps:\n  - [extract, lambda]\n", "steps[0]", '["extract", "lambda"]'),
        (
            "name: w\nsteps:\n  - {id: f, type: foreach, over: {x: [1]}, steps: [inner]}\n",
            "steps[0].steps[0]",
            "'inner' is not a step",
        ),
    ],
)
def test_a_step_that_is_not_a_map_says_what_a_step_looks_like(
    text: str, path: str, said: str
) -> None:
    """``steps: [extract, load]`` (step ids listed instead of steps) or a stray ``-`` was
    told "Input should be a valid dictionary or object to extract fields from"."""
    issues = _issues(text)
    assert [p for p, _ in issues] == [path]
    message = issues[0][1]
    assert said in message
    assert "a step is a map such as {id: extract, type: lambda" in message


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("name: w\nnull: 1\nsteps:\n  - {id: a, type: noop}\n", "null"),
        ("name: w\n1: x\nsteps:\n  - {id: a, type: noop}\n", "1"),
        ("name: w\nsteps:\n  - {id: a, type: noop, true: x}\n", "steps[0].true"),
        ("name: w\nsteps:\n  - {id: a, type: noop, 1.5: x}\n", "steps[0].1.5"),
    ],
)
def test_a_key_that_is_not_text_outside_params_is_named_as_written(text: str, path: str) -> None:
    """A key YAML reads as null, a number or a boolean at the top level or in a step was
    reported at the path "None" / "[1]" / "steps[0][1]" with "Keys should be strings"
    (``params: {1: ...}`` already said "params.1: a name is text; quote it ('1')")."""
    issues = _issues(text)
    assert issues == [(path, f"a name is text; quote it ('{path.split('.', 1)[-1]}')")]


def test_a_step_whose_type_is_empty_is_told_it_needs_one() -> None:
    """``type:`` with no value was reported as "unknown step type 'None'"."""
    issues = _issues("name: w\nsteps:\n  - {id: a, type: }\n")
    assert [p for p, _ in issues] == ["steps[0].type"]
    assert issues[0][1].startswith("a step needs a type; use one of: noop, lambda")


@pytest.mark.parametrize(
    ("step", "path", "said"),
    [
        (
            "{id: a, type: http, url: 'https://x.test', method: get}",
            "steps[0].method",
            "'get' is not allowed; use one of: GET, POST, PUT, PATCH, DELETE, HEAD"
            " (the case matters: write 'GET')",
        ),
        (
            "{id: a, type: foreach, over: {x: [1]}, on_failure: stop, steps: [{id: b, type: noop}]}",
            "steps[0].on_failure",
            "'stop' is not allowed; use one of: fail_fast, finish_running, continue",
        ),
    ],
)
def test_a_value_outside_a_fixed_set_lists_the_values_and_says_the_case(
    step: str, path: str, said: str
) -> None:
    """``method: get`` and ``on_failure: stop`` got pydantic's "Input should be 'GET',
    'POST', ..." (which did not say the case was the only thing wrong)."""
    assert _issues(f"name: w\nsteps:\n  - {step}\n") == [(path, said)]
