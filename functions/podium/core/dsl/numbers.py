"""Whole-number fields of a definition refuse booleans, and read a whole number written
as a string (``retries: "3"``) as the number.

The loader reads ``true`` and ``false`` as booleans (only those: core.dsl.yaml12), and
pydantic's int takes a boolean as 1 or 0 (``concurrency: true``: one iteration at a
time; ``retries: true``: one retry). Every int field of the definition models carries
one of these validators; tests/unit/test_definition_booleans.py walks the models to
keep it so.
"""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator, TypeAdapter, ValidationError, ValidationInfo

from podium.core.dsl.stored import at_push


def not_boolean(field: str, expected: str) -> BeforeValidator:
    """Refused at push, naming the field (a version stored before the rule still reads
    it as 1: core.dsl.stored)."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and at_push(info):
            raise ValueError(f"{field} must be {expected}, not the boolean {str(value).lower()}")
        return value

    check.refuses_booleans = True  # type: ignore[attr-defined]  # what the test looks for
    return BeforeValidator(check)


# The same refusal for the other whole-number fields (retries, seconds, limits): the
# error's place names the field.
NOT_BOOLEAN = not_boolean("the value", "a whole number")


_WHOLE_NUMBER = TypeAdapter(int)


def whole_number(value: str) -> int | None:
    """``"3"`` as 3, read as a plain int field reads it (pydantic's lax int, which the
    docs promise: "a whole number written as a string is read as the number"), for the
    fields whose type is a union with words (a subworkflow's ``version``,
    ``tolerated_failures``), which check their text themselves; None when it is not one
    (``"3.5"``, ``"three"``)."""
    try:
        return _WHOLE_NUMBER.validate_python(value)
    except ValidationError:
        return None


def number_text(value: Any) -> str:
    """A number as messages write it: thousands separators (10,000), a whole float
    without its fraction (never 1.0368e+07); anything else as its text, cut short."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)[:40]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,}"
