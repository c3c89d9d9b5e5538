"""A cron written in EventBridge's or Quartz's syntax, pushed as a Podium cron.

Podium's cron has five fields and writes Scheduler's six-field expression itself
(core/engine/schedule.py). A user who copied a schedule from the AWS console
(``cron(0 6 * * ? *)``) or used its day operators (``L``, ``W``, ``#``) was told
"'L' is not a number from 1 to 31" or "must have 5 fields", which named neither the
cause (another cron dialect) nor the fix. The push now says what the expression is
and how to write it in the five fields.
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.schedule import Cron, ScheduleError


def push_issues(cron: str) -> str:
    trigger: dict[str, Any] = {"id": "nightly", "cron": cron}
    defn = {"name": "t", "steps": [{"id": "a", "type": "noop"}], "triggers": [trigger]}
    with pytest.raises(DefinitionError) as caught:
        validate_definition(defn)
    return " ".join(str(i) for i in caught.value.issues)


@pytest.mark.parametrize(
    ("cron", "fix"),
    [
        ("cron(0 6 * * ? *)", "EventBridge's 6-field cron in cron(...)"),
        ("0 6 * * ? *", "leave out the year: '0 6 * * *'"),
        ("30 2 ? * MON-FRI *", "leave out the year: '30 2 * * MON-FRI'"),
        ("0 6 1 * ? 2027", "a year ('2027') has no 5-field form"),
        ("0 0 6 * * ?", "leave out the seconds: '0 6 * * *'"),
        ("0 0 6 ? * MON *", "leave out the seconds and the year: '0 6 * * MON'"),
    ],
)
def test_eventbridge_and_quartz_crons_say_how_to_write_five_fields(cron: str, fix: str) -> None:
    """A 6-field cron was "must have 5 fields", with no word of the year or of '?'."""
    said = push_issues(cron)
    assert "Podium's cron has 5 fields" in said
    assert fix in said, said


def test_numbered_days_of_week_are_said_to_count_otherwise() -> None:
    """EventBridge counts the days of the week 1-7 from Sunday, Podium 0-6: a copied
    '2' (Monday there) would run on Tuesdays. The message says so."""
    said = push_issues("0 6 ? * 2 *")
    assert "1-7 from Sunday, Podium 0-6 from Sunday: write them as SUN-SAT" in said


@pytest.mark.parametrize(
    ("cron", "operator", "meaning"),
    [
        ("0 6 L * ?", "'L'", "the last day of the month"),
        ("0 6 L-2 * *", "'L-2'", "the last day of the month"),
        ("0 6 15W * *", "'15W'", "the weekday nearest that day"),
        ("0 6 LW * *", "'LW'", "the last weekday of the month"),
        ("0 6 * * MON#1", "'MON#1'", "the Nth such weekday of the month"),
        ("0 6 * * 6L", "'6L'", "the last such weekday of the month"),
        ("0 6 ? * 2#3 *", "'2#3'", "the Nth such weekday of the month"),
    ],
)
def test_day_operators_are_named_as_eventbridge_quartz_operators(
    cron: str, operator: str, meaning: str
) -> None:
    """``L`` was "'L' is not a number from 1 to 31"; ``MON#1`` "is not a number from 0
    to 7"."""
    said = push_issues(cron)
    assert f"{operator} is an EventBridge/Quartz cron operator ({meaning})" in said
    assert "Podium's 5-field cron" in said and "is not a number" not in said


def test_five_field_crons_with_names_still_parse() -> None:
    """Names holding the operators' letters (WED, JUL, APR) are no operators."""
    for cron in ("0 6 * * WED", "0 6 * JUL *", "0 6 1 APR *", "0 6 * * FRI-SAT", "0 6 ? * *"):
        Cron.parse(cron)
    with pytest.raises(ScheduleError, match="must have 5 fields"):
        Cron.parse("0 6 1 2")
    with pytest.raises(ScheduleError, match="without 'cron"):
        Cron.parse("cron(0 6 * * *)")
