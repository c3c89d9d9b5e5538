"""pydantic's wording turned into the place and the fix for request bodies
(core/dsl/errors.py request_issues): no class names, no regular expressions."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podium.core.dsl.errors import Issue, pattern_in_words, request_issues


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        (r"^[A-Za-z0-9_-]{1,64}$", "use 1 to 64 letters, digits, '_' or '-'"),
        (r"^[A-Za-z0-9_.:-]{1,128}$", "use 1 to 128 letters, digits, '_', '.', ':' or '-'"),
        (r"^[a-z0-9]{1,8}$", "use 1 to 8 lower-case letters or digits"),
        (r"^[A-Z]{2,2}$", "use 2 to 2 upper-case letters"),
        (r"^[a-f]{1,2}$", None),  # another range: no guess
        (r"^[^a]{1,2}$", None),  # negated
        (r"^[A-Za-z_][A-Za-z0-9_]{0,79}$", None),  # another shape
    ],
)
def test_simple_patterns_are_said_in_words(pattern: str, words: str | None) -> None:
    assert pattern_in_words(pattern) == words


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: int = 0


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    inner: _Inner | None = None
    params: dict[str, Any] | None = None


def _issues(body: Any, fields: tuple[str, ...] = ()) -> list[Issue]:
    with pytest.raises(ValidationError) as caught:
        _Body.model_validate(body)
    return request_issues(caught.value.errors(), fields=fields)


def test_pydantic_wording_is_replaced() -> None:
    assert _issues([]) == [Issue("body", "must be a JSON object")]
    assert _issues({"params": []}) == [Issue("body.params", "must be a JSON object")]
    assert _issues({"token": "a b"}) == [
        Issue("body.token", "use 1 to 64 letters, digits, '_' or '-'")
    ]


def test_an_unknown_field_is_named_with_the_fields_when_given() -> None:
    assert _issues({"tokn": "a"}, ("token", "inner", "params")) == [
        Issue(
            "body.tokn",
            "unknown field 'tokn' (did you mean 'token'?); the fields are token, inner, params",
        )
    ]
    assert _issues({"tokn": "a"}) == [Issue("body.tokn", "unknown field 'tokn'; remove it")]
    # A nested body's unknown field: the top-level fields are not its fields.
    assert _issues({"inner": {"y": 1}}, ("token", "inner", "params")) == [
        Issue("body.inner.y", "unknown field 'y'; remove it")
    ]
