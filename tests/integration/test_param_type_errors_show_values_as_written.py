"""A param refused for its type (or its ``validate``) shows the value as the
definition's language writes it, not Python's repr.

core/dsl/params._check_type printed ``{value!r}``: a string param defaulting to
``${run.start_time}`` refused every run with "got datetime
datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)", a null was
"got null None", and a failing ``validate`` said "True is not valid". The value is now
shown in CEL/JSON form and cut short (``got timestamp
timestamp('2026-01-01T00:00:00Z')``, ``true is not valid``), and a timestamp given to a
string param is told to use ``string(...)``."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.local.runtime import LocalRuntime


def _refused(home_rt: LocalRuntime, params: dict[str, Any], given: dict[str, Any]) -> str:
    home_rt.push({"name": "days", "params": params, "steps": [{"id": "a", "type": "noop"}]})
    with pytest.raises(DefinitionError) as refused:
        home_rt.start_run("days", params=given)
    return str(refused.value)


def test_a_string_param_defaulting_to_a_timestamp_is_named_in_cel_terms(
    home_rt: LocalRuntime,
) -> None:
    message = _refused(home_rt, {"day": {"type": "string", "default": "${run.start_time}"}}, {})
    assert "params.day.default: expected string (a string), got timestamp" in message, message
    assert "timestamp('2026-01-01T00:00:00Z')" in message, message
    assert "string(" in message, message
    assert "datetime" not in message and "tzinfo" not in message, message


def test_a_null_is_shown_once_as_null(home_rt: LocalRuntime) -> None:
    message = _refused(home_rt, {"n": {"type": "int", "default": "${null}"}}, {})
    assert "got null (from" in message and "None" not in message, message


def test_a_long_value_is_cut(home_rt: LocalRuntime) -> None:
    message = _refused(home_rt, {"n": {"type": "int", "default": "${podium.range(0, 10000)}"}}, {})
    assert "got list [0, 1, 2" in message and "..." in message, message
    assert len(message) < 300, message


def test_a_failing_validate_shows_the_value_in_cel_form(home_rt: LocalRuntime) -> None:
    message = _refused(
        home_rt,
        {"b": {"type": "bool", "default": False, "validate": "value == false"}},
        {"b": True},
    )
    assert "params.b: true is not valid" in message, message
