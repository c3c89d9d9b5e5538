"""Timestamps, durations, time zones and the podium.* date helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from podium.core.expr import ExpressionError, compile_expression
from podium.core.expr.values import Duration, Timestamp


def ev(source: str, **bindings: object) -> object:
    return compile_expression(source).evaluate(bindings)


def test_timestamp_parsing_and_formatting() -> None:
    assert ev("string(timestamp('2009-02-13T23:31:30Z'))") == "2009-02-13T23:31:30Z"
    assert ev("string(timestamp('2009-02-13T23:31:30.5+01:00'))") == "2009-02-13T22:31:30.5Z"
    nanos = "string(timestamp('9999-12-31T23:59:59.999999999Z'))"
    assert ev(nanos) == "9999-12-31T23:59:59.999999999Z"
    assert ev("string(timestamp('0001-01-01T00:00:00Z'))") == "0001-01-01T00:00:00Z"
    assert ev("int(timestamp('1970-01-01T00:00:10Z'))") == 10
    assert ev("timestamp(86400) == timestamp('1970-01-02T00:00:00Z')") is True


def test_timestamp_values_come_back_as_aware_datetimes() -> None:
    value = ev("timestamp('2024-05-01T10:00:00Z') + duration('1h30m')")
    assert value == datetime(2024, 5, 1, 11, 30, tzinfo=UTC)
    assert ev("duration('1.5s')") == timedelta(seconds=1.5)


@pytest.mark.parametrize(
    "source",
    [
        "timestamp('2024-13-01T00:00:00Z')",
        "timestamp('2024-01-01')",
        "timestamp('0000-01-01T00:00:00Z')",
        "timestamp(253402300800)",
        "timestamp('9999-12-31T23:59:59Z') + duration('1s')",
        "timestamp('0001-01-01T00:00:00Z') - duration('1ns')",
        "timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')",
        "duration('1x')",
        "duration('3000000h')",
        "duration('-2562047h') - duration('2562047h')",
    ],
)
def test_range_and_format_errors(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source).evaluate()


def test_durations() -> None:
    assert ev("string(duration('1h2m3.5s'))") == "3723.5s"
    assert ev("string(duration('-1.5s'))") == "-1.5s"
    assert ev("string(duration('300ms') + duration('200us') + duration('100ns'))") == ("0.3002001s")
    assert ev("duration('1h') > duration('59m')") is True
    assert ev("duration('3730s').getMinutes()") == 62
    assert ev("duration('-3730s').getHours()") == -1
    assert ev("duration('1.234s').getMilliseconds()") == 234


def test_timestamp_arithmetic() -> None:
    assert ev(
        "timestamp('2024-01-01T00:10:00Z') - timestamp('2024-01-01T00:00:00Z') == duration('10m')"
    )
    assert (
        ev(
            "duration('1m') + timestamp('2024-01-01T00:00:00Z') "
            "== timestamp('2024-01-01T00:01:00Z')"
        )
        is True
    )
    with pytest.raises(ExpressionError):
        ev("timestamp('2024-01-01T00:00:00Z') + 1")


@pytest.mark.parametrize(
    ("accessor", "expected"),
    [
        ("getFullYear()", 2009),
        ("getMonth()", 1),
        ("getDate()", 13),
        ("getDayOfMonth()", 12),
        ("getDayOfWeek()", 5),
        ("getDayOfYear()", 43),
        ("getHours()", 23),
        ("getMinutes()", 31),
        ("getSeconds()", 30),
        ("getMilliseconds()", 123),
        ("getDate('Australia/Sydney')", 14),
        ("getHours('+02:00')", 1),
        ("getHours('02:00')", 1),
        ("getHours('-02:30')", 21),
        ("getMinutes('Asia/Kathmandu')", 16),
        ("getHours('UTC')", 23),
    ],
)
def test_timestamp_accessors(accessor: str, expected: int) -> None:
    assert ev(f"timestamp('2009-02-13T23:31:30.123Z').{accessor}") == expected


@pytest.mark.parametrize("zone", ["Not/AZone", "../../etc/passwd", "+25:00", "x" * 100])
def test_bad_time_zones(zone: str) -> None:
    with pytest.raises(ExpressionError, match="time zone"):
        ev("timestamp('2009-02-13T23:31:30Z').getHours(z)", z=zone)


def test_datetime_and_timedelta_bindings() -> None:
    when = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert ev("t + d > t", t=when, d=timedelta(minutes=5)) is True
    assert ev("t.getHours()", t=datetime(2024, 5, 1, 12)) == 12  # naive means UTC
    assert ev("string(t)", t=when) == "2024-05-01T12:00:00Z"


def test_podium_date_helpers() -> None:
    assert ev("podium.date(timestamp('2024-03-01T05:00:00Z'))") == "2024-03-01"
    assert ev("podium.date('2024-03-01T05:00:00Z', 'America/New_York')") == "2024-03-01"
    assert ev("podium.date('2024-03-01T02:00:00Z', '-05:00')") == "2024-02-29"
    assert ev("podium.date(run.logical_date)", run={"logical_date": "2024-03-01"}) == "2024-03-01"
    fmt = "podium.format('2024-03-01T05:06:07.123456Z', '%Y%m%d/%H%M%S.%f %j %a %b %%')"
    assert ev(fmt) == "20240301/050607.123456 061 Fri Mar %"
    assert ev("podium.format('2024-12-30', '%G-W%V-%u')") == "2025-W01-1"
    assert ev("podium.dateRange('2024-02-27', '2024-03-01')") == [
        "2024-02-27",
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
    ]
    assert ev("podium.dateRange('2024-03-01', '2024-02-01')") == []
    assert ev("size(podium.dateRange(timestamp('2024-01-01T23:00:00Z'), '2024-12-31'))") == 366


def test_podium_helpers_reject_bad_input() -> None:
    with pytest.raises(ExpressionError, match="unsupported format directive"):
        ev("podium.format('2024-01-01', '%c')")
    with pytest.raises(ExpressionError, match="dateRange would produce"):
        ev("podium.dateRange('0001-01-01', '9999-01-01')")
    with pytest.raises(ExpressionError, match="no matching overload"):
        ev("podium.date(1)")
    with pytest.raises(ExpressionError, match="takes 2 argument"):
        compile_expression("podium.dateRange('2024-01-01')")


def test_podium_namespace_does_not_leak_into_references() -> None:
    compiled = compile_expression("podium.date(run.logical_date)")
    assert compiled.references == {"run.logical_date"}


def test_cel_values_for_conformance() -> None:
    value = compile_expression("timestamp('1970-01-01T00:00:01Z')").evaluate_cel()
    assert value == Timestamp(1_000_000_000)
    assert compile_expression("duration('1ms')").evaluate_cel() == Duration(1_000_000)
