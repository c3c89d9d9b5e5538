"""Cron and rate schedules (core/engine/schedule.py): the times they fire in a time
zone, DST as EventBridge Scheduler does it, and Scheduler's expressions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podium.core.engine.schedule import (
    Cron,
    ScheduleError,
    cron_times,
    iso,
    logical_date,
    next_cron_time,
    parse_iso,
    parse_rate,
    rate_expression,
    rate_times,
    trigger_run_id,
)


def ms(text: str) -> int:
    return parse_iso(text)


def test_daily_at_six_in_berlin_across_the_spring_dst_week() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST. 06:00 local exists every day: UTC moves by 1h.
    times = cron_times(
        Cron.parse("0 6 * * *"),
        "Europe/Berlin",
        ms("2026-03-26T00:00:00Z"),
        ms("2026-04-01T00:00:00Z"),
    )
    assert [iso(t) for t in times] == [
        "2026-03-26T05:00:00Z",
        "2026-03-27T05:00:00Z",
        "2026-03-28T05:00:00Z",
        "2026-03-29T04:00:00Z",
        "2026-03-30T04:00:00Z",
        "2026-03-31T04:00:00Z",
    ]
    assert [logical_date(t, "Europe/Berlin") for t in times][3] == "2026-03-29"


def test_a_local_time_skipped_by_spring_forward_does_not_run() -> None:
    times = cron_times(
        Cron.parse("30 2 * * *"),
        "Europe/Berlin",
        ms("2026-03-27T00:00:00Z"),
        ms("2026-03-31T00:00:00Z"),
    )
    # 02:30 does not exist on 2026-03-29 in Berlin.
    assert [iso(t) for t in times] == [
        "2026-03-27T01:30:00Z",
        "2026-03-28T01:30:00Z",
        "2026-03-30T00:30:00Z",
    ]


def test_a_local_time_repeated_by_fall_back_runs_once() -> None:
    # 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice; it runs once (the first).
    times = cron_times(
        Cron.parse("30 2 * * *"),
        "Europe/Berlin",
        ms("2026-10-24T00:00:00Z"),
        ms("2026-10-27T00:00:00Z"),
    )
    assert [iso(t) for t in times] == [
        "2026-10-24T00:30:00Z",
        "2026-10-25T00:30:00Z",
        "2026-10-26T01:30:00Z",
    ]
    hourly = cron_times(
        Cron.parse("0 * * * *"),
        "Europe/Berlin",
        ms("2026-10-24T23:30:00Z"),
        ms("2026-10-25T02:30:00Z"),
    )
    # Local 02:00 happens twice, 00:00Z (CEST) and 01:00Z (CET): only the first runs.
    assert [iso(t) for t in hourly] == ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"]


def test_weekdays_ranges_steps_names_and_macros() -> None:
    cron = Cron.parse("*/20 9-10 * JAN-MAR MON-FRI")
    start, end = ms("2026-01-02T00:00:00Z"), ms("2026-01-06T00:00:00Z")  # Fri .. Mon
    got = [iso(t) for t in cron_times(cron, "UTC", start, end)]
    assert got[:3] == ["2026-01-02T09:00:00Z", "2026-01-02T09:20:00Z", "2026-01-02T09:40:00Z"]
    assert len(got) == 12  # Friday and Monday, 6 a day; not the weekend
    assert Cron.parse("@daily").fields == ("0", "0", "*", "*", "*")
    assert next_cron_time(Cron.parse("0 0 29 2 *"), "UTC", ms("2026-01-01T00:00:00Z")) == ms(
        "2028-02-29T00:00:00Z"
    )
    assert Cron.parse("0 0 * * 7").weekdays == frozenset({0})


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 6 * * *", "cron(0 6 * * ? *)"),
        ("15 3 1 * *", "cron(15 3 1 * ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("0 9 * * MON,FRI", "cron(0 9 ? * 2,6 *)"),
        ("0 9 * * 0", "cron(0 9 ? * 1 *)"),
        # Unix's 7 is Sunday, Scheduler's is Saturday: these lost Sunday when their
        # text was translated token by token ("5-7" became Friday to Saturday).
        ("0 6 * * 5-7", "cron(0 6 ? * 1,6,7 *)"),
        ("0 6 * * 6-7", "cron(0 6 ? * 1,7 *)"),
        ("0 6 * * 1/2", "cron(0 6 ? * 1,2,4,6 *)"),
        ("0 6 * * SUN-SAT", "cron(0 6 ? * 1-7 *)"),
    ],
)
def test_scheduler_expressions(cron: str, expected: str) -> None:
    assert Cron.parse(cron).scheduler_expression() == expected


def test_the_scheduler_expression_fires_on_the_days_the_cron_names() -> None:
    # Every day-of-week field the parser accepts, read back from Scheduler's numbers.
    for dow in ["*", "0", "7", "1-5", "5-7", "6-7", "0-6", "1/2", "*/3", "MON,WED", "SAT,SUN"]:
        cron = Cron.parse(f"0 6 * * {dow}")
        field = cron.scheduler_expression().split()[4]
        if field == "?":
            assert cron.weekdays == frozenset(range(7)), dow
            continue
        days: set[int] = set()
        for part in field.split(","):
            first, _, last = part.partition("-")
            days |= set(range(int(first), int(last or first) + 1))
        assert {d - 1 for d in days} == cron.weekdays, dow


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("0 6 * *", "5 fields"),
        ("61 * * * *", "minute"),
        ("0 6 1 * MON", "one of them"),
        ("0 6 * * FUNDAY", "day of week"),
        ("5-1 * * * *", "backwards"),
    ],
)
def test_bad_crons_say_what_to_fix(bad: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        Cron.parse(bad)


def test_rates() -> None:
    assert parse_rate("15m") == 15 and parse_rate("2h") == 120 and parse_rate("1 day") == 1440
    assert rate_expression(15) == "rate(15 minutes)" and rate_expression(60) == "rate(1 hour)"
    with pytest.raises(ScheduleError):
        parse_rate("0m")
    anchor = ms("2026-01-01T00:00:00Z")
    assert rate_times(15, anchor, anchor, anchor + 45 * 60_000) == [
        anchor + 15 * 60_000,
        anchor + 30 * 60_000,
        anchor + 45 * 60_000,
    ]


def test_trigger_run_ids_are_deterministic_and_time_ordered() -> None:
    a = trigger_run_id("wf", "nightly", "1", ms("2026-01-01T06:00:00Z"))
    assert a == trigger_run_id("wf", "nightly", "1", ms("2026-01-01T06:00:00Z"))
    b = trigger_run_id("wf", "nightly", "2", ms("2026-01-02T06:00:00Z"))
    assert len(a) == 26 and a < b
    assert a != trigger_run_id("wf", "other", "1", ms("2026-01-01T06:00:00Z"))
    assert datetime.fromtimestamp(ms("2026-01-01T06:00:00Z") / 1000, UTC).hour == 6
