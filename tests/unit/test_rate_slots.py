"""A rate trigger's slots (core/engine/backfill.py): the times a backfill runs are the
slots, and every firing of a schedule, whatever its own anchor, stands for one of them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podium.core.engine.backfill import rate_anchor, rate_slot
from podium.core.engine.schedule import iso, parse_iso, rate_times

MINUTE = 60_000
SINCE = parse_iso("2026-03-01T00:00:00Z") + 42_123  # a trigger pushed at 00:00:42.123


def test_the_anchor_is_since_to_the_minute() -> None:
    assert iso(rate_anchor(SINCE)) == "2026-03-01T00:00:00Z"
    assert rate_anchor(parse_iso("2026-03-01T00:05:00Z")) == parse_iso("2026-03-01T00:05:00Z")


def test_a_slot_is_its_own_slot_and_holds_its_period() -> None:
    anchor = rate_anchor(SINCE)
    slots = rate_times(60, anchor, anchor - 1, anchor + 5 * 60 * MINUTE)
    assert [rate_slot(60, anchor, s) for s in slots] == slots
    # A firing cut to the second (a local fire message) or made later (Scheduler's own
    # anchor) stands for the slot it falls in, never a later one.
    assert rate_slot(60, anchor, slots[2] + 20 * MINUTE + 31_000) == slots[2]
    assert rate_slot(60, anchor, slots[3] - 1) == slots[2]


@given(
    minutes=st.integers(min_value=1, max_value=2 * 1440),
    since=st.integers(min_value=0, max_value=2**42),
    made_after=st.integers(min_value=0, max_value=10**10),
    count=st.integers(min_value=1, max_value=20),
)
def test_a_schedules_firings_stand_for_distinct_slots_never_after_them(
    minutes: int, since: int, made_after: int, count: int
) -> None:
    """One schedule fires every period from when it was made: each firing maps to a
    slot at or before it (a run id's time is never after its run), no two to one."""
    anchor = rate_anchor(since)
    made = since + made_after
    firings = [made + k * minutes * MINUTE for k in range(1, count + 1)]
    slots = [rate_slot(minutes, anchor, at) for at in firings]
    assert len(set(slots)) == len(slots)
    assert all(s <= at < s + minutes * MINUTE for s, at in zip(slots, firings, strict=True))
    assert all((s - anchor) % (minutes * MINUTE) == 0 for s in slots)
