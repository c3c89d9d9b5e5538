"""Catch-up searches back from the firing (core/engine/schedule.py ``last_cron_times``,
``last_rate_times``): the times it finds are exactly the newest of those the forward
enumeration (``cron_times``, ``rate_times``) gives over the same gap, DST changes of
the trigger's zone included (a skipped local time does not run, a repeated one runs
once, at its first occurrence)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from podium.core.engine.schedule import (
    Cron,
    cron_times,
    last_cron_times,
    last_rate_times,
    parse_iso,
    rate_times,
)

FAST = settings(
    max_examples=300,
    deadline=timedelta(seconds=3),  # each example takes milliseconds; generous for CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Changes of 1 hour (Berlin, New York: the ones asked about), of 30 minutes (Lord Howe),
# a half-hour offset (St John's), and none (UTC, Kolkata).
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Asia/Kolkata",
    "UTC",
]
# Instants at (or next to) the zones' changes, in UTC: the gaps are drawn around them.
CHANGES = [
    parse_iso(t)
    for t in (
        "2026-03-29T01:00:00Z",  # Berlin springs forward (02:00 -> 03:00)
        "2026-10-25T01:00:00Z",  # Berlin falls back (03:00 -> 02:00)
        "2026-03-08T07:00:00Z",  # New York springs forward
        "2026-11-01T06:00:00Z",  # New York falls back
        "2026-04-04T15:00:00Z",  # Lord Howe falls back 30 minutes
        "2026-10-03T15:30:00Z",  # Lord Howe springs forward 30 minutes
        "2026-03-08T05:30:00Z",  # St John's springs forward
        "2026-11-01T04:30:00Z",  # St John's falls back
        "2028-02-29T00:00:00Z",  # a leap day, no change
    )
]
MINUTE = 60_000

cron_fields = st.tuples(
    st.sampled_from(["*", "*/7", "0", "30", "0,30", "59", "15-20", "1/13"]),
    st.sampled_from(["*", "1", "2", "0-3", "*/5", "0", "23", "1,2,3", "2,4"]),
    st.sampled_from(["*", "1", "29", "31", "*/10"]),
    st.sampled_from(["*", "3", "10,11", "2", "4"]),
    st.sampled_from(["*", "0", "1-5", "SUN"]),
).filter(lambda f: f[2] == "*" or f[4] == "*")  # one day field restricted at most


@FAST
@given(
    fields=cron_fields,
    tz=st.sampled_from(ZONES),
    change=st.sampled_from(CHANGES),
    # ``after`` within two days of a change, to the millisecond (a firing is seldom on
    # the minute), and a gap of up to three days from it.
    offset=st.integers(-2 * 1440 * MINUTE, 2 * 1440 * MINUTE),
    gap=st.integers(0, 3 * 1440 * MINUTE),
    count=st.one_of(st.integers(1, 40), st.just(100_000)),
)
def test_last_cron_times_are_the_newest_of_the_forward_ones(
    fields: tuple[str, ...], tz: str, change: int, offset: int, gap: int, count: int
) -> None:
    cron = Cron.parse(" ".join(fields))
    after = change + offset
    until = after + gap
    forward = cron_times(cron, tz, after, until)
    assert last_cron_times(cron, tz, after, until, count) == forward[-count:]


@FAST
@example(
    tz="Europe/Berlin",
    change=CHANGES[1],
    minute="*",
    hour="*",
    end=30,
    jitter=0,
    length=90,
    count=9,
)
@given(
    tz=st.sampled_from(["Europe/Berlin", "America/New_York"]),
    change=st.sampled_from(CHANGES[:4]),
    minute=st.sampled_from(["*", "*/5", "0,30", "59"]),
    # Hours of the skipped (02:xx in both) and repeated (02:xx, 01:xx) local times, with
    # and without the hour after them (whose instants a skipped time would take).
    hour=st.sampled_from(["*", "1", "2", "1,2", "2,4", "0-1"]),
    # ``until`` from 2 hours before a change to 3 hours after it (in a repeated hour's
    # second occurrence, say), to the millisecond; ``after`` up to 5 hours before it.
    end=st.integers(-2 * 60, 3 * 60),
    jitter=st.integers(0, MINUTE - 1),
    length=st.integers(0, 5 * 60),
    count=st.integers(1, 400),
)
def test_every_minute_through_a_dst_change_in_berlin_and_new_york(
    tz: str, change: int, minute: str, hour: str, end: int, jitter: int, length: int, count: int
) -> None:
    """The hours around a change, minute by minute: where a skipped or repeated local
    time would be kept twice, dropped, or kept out of order."""
    cron = Cron.parse(f"{minute} {hour} * * *")
    until = change + end * MINUTE + jitter
    after = until - length * MINUTE
    forward = cron_times(cron, tz, after, until)
    assert last_cron_times(cron, tz, after, until, count) == forward[-count:]


@FAST
@given(
    minutes=st.integers(1, 3 * 1440),
    anchor=st.integers(0, 10**12),
    after_from_anchor=st.integers(-10 * 1440 * MINUTE, 30 * 1440 * MINUTE),
    gap=st.integers(-MINUTE, 30 * 1440 * MINUTE),
    count=st.integers(1, 50),
)
def test_last_rate_times_are_the_newest_of_the_forward_ones(
    minutes: int, anchor: int, after_from_anchor: int, gap: int, count: int
) -> None:
    after = anchor + after_from_anchor
    until = after + gap
    forward = rate_times(minutes, anchor, after, until)
    assert last_rate_times(minutes, anchor, after, until, count) == forward[-count:]
