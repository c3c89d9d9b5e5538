"""A field of the wrong scalar type was named with pydantic's words alone ("Input should
be a valid integer, unable to parse string as an integer"): the place, but no fix (the
README promises "every problem ... with its path and the fix"). Now the value is shown
with what to write instead."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition


def _issues(steps: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(f"name: t\nsteps:\n{steps}")
    return [str(i) for i in caught.value.issues]


def test_a_word_where_a_whole_number_goes_says_to_write_digits() -> None:
    assert _issues('  - {id: w, type: sleep, seconds: "soon"}\n') == [
        'steps[0].seconds: "soon" is not a whole number: write digits, e.g. 30'
    ]


def test_a_fraction_where_a_whole_number_goes_says_to_drop_it() -> None:
    assert _issues("  - {id: a, type: noop, retries: 2.5}\n") == [
        "steps[0].retries: 2.5 is not a whole number: drop the fraction"
    ]


def test_a_number_where_text_goes_says_to_quote_it() -> None:
    issues = _issues("  - {id: a, type: lambda, function: 123}\n")
    assert issues == ["steps[0].function: 123 is not text: quote it"], issues
    assert all("Input should be" not in i for i in issues)
