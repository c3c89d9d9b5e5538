"""``tolerated_failures`` read three ways wrong:

- ``0`` was accepted with any ``on_failure`` and ``"0%"`` refused without ``continue``
  ("applies with on_failure: continue only"): the check tested truthiness, and "0%" is
  a non-empty string. Both tolerate no failure, as every policy but continue does: both
  are accepted with any (docs/workflow-language.md's own foreach example writes
  ``tolerated_failures: 0`` beside ``on_failure: finish_running``).
- ``"100.0%"`` was refused, though "2.5%" (a decimal) was taken and 100.0 is in range.
- ``"10%\\n"`` passed ``re.match(...$)`` (``$`` matches before a final newline), then
  failed pydantic's own pattern: two messages for one value, one of them about a whole
  number.

Found by review R30f."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition


def _foreach(on_failure: str, tolerated: Any) -> dict[str, Any]:
    return {
        "name": "w",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": [1, 2]},
                "on_failure": on_failure,
                "tolerated_failures": tolerated,
                "steps": [{"id": "x", "type": "noop"}],
            }
        ],
    }


def _issues(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        validate_definition(doc)
    return [(i.path, i.message) for i in caught.value.issues]


@pytest.mark.parametrize("on_failure", ["fail_fast", "finish_running", "continue"])
@pytest.mark.parametrize("zero", [0, "0%", "0.0%"])
def test_no_failure_tolerated_is_accepted_with_any_policy(on_failure: str, zero: Any) -> None:
    validate_definition(_foreach(on_failure, zero))


@pytest.mark.parametrize("some", [1, "1%", "0.5%"])
def test_a_tolerance_without_continue_is_refused(some: Any) -> None:
    assert _issues(_foreach("finish_running", some)) == [
        ("steps[0]", "tolerated_failures applies with on_failure: continue only")
    ]


@pytest.mark.parametrize("value", ["100%", "100.0%", "100.00%", "99.5%", "2.5%"])
def test_a_percentage_up_to_100_with_decimals_is_accepted(value: str) -> None:
    validate_definition(_foreach("continue", value))


@pytest.mark.parametrize("value", ["10%\n", "100.5%", "100.01%", " 10%"])
def test_a_bad_percentage_gets_one_message(value: str) -> None:
    issues = _issues(_foreach("continue", value))
    assert len(issues) == 1, issues
    [(path, message)] = issues
    assert path == "steps[0].tolerated_failures"
    assert "is not a count or a percentage" in message and "whole number" in message
