"""A catch-up computes only the missed times it keeps (service/triggers.py
``missed_times``): it enumerated every time of the pause and kept the last one or the
last ``max_catchup``, which for a per-minute cron off for a year is half a million local
times checked against DST (seconds) on every firing. Counted here in candidate times
looked at, not in seconds, which a loaded machine would make flaky."""

from __future__ import annotations

from typing import Any

import pytest

import podium.core.engine.schedule as schedule
import podium.service.triggers as triggers
from podium.core.dsl.load import validate_definition
from podium.core.dsl.triggers import Trigger
from podium.core.engine.schedule import iso, parse_iso
from podium.core.ports import TriggerState
from podium.service.triggers import missed_times

MINUTE = 60_000
AT = parse_iso("2026-06-15T12:00:00Z")
YEAR_AGO = AT - 365 * 1440 * MINUTE


def trigger(**fields: Any) -> Trigger:
    defn = validate_definition(
        {"name": "t", "steps": [{"id": "a", "type": "noop"}], "triggers": [fields]}
    )
    (only,) = defn.trigger_map.values()
    return only


@pytest.fixture
def looked_at(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many local times were checked against the zone's DST changes: one per
    candidate time, whichever way the times are searched."""
    calls = [0]
    real = schedule.exists

    def counting(local: Any, tz: Any) -> bool:
        calls[0] += 1
        return real(local, tz)

    monkeypatch.setattr(schedule, "exists", counting)
    return calls


@pytest.mark.parametrize(("catchup", "kept"), [("all", 100), ("latest", 1)])
def test_a_per_minute_cron_off_for_a_year_looks_at_the_times_it_keeps(
    looked_at: list[int], catchup: str, kept: int
) -> None:
    cron = trigger(cron="* * * * *", timezone="Europe/Berlin", catchup=catchup)
    looked_at[0] = 0  # the push's own check (it fires at all) is not the catch-up's
    missed = missed_times(cron, TriggerState(True, YEAR_AGO, fired_at=YEAR_AGO), AT)
    # The newest minutes before the firing, oldest first.
    assert missed == [AT - k * MINUTE for k in range(kept, 0, -1)]
    # The kept ones, and the two hours the search back starts ahead of ``at`` (a
    # fall-back change may put later local times before it): not 525,600.
    assert looked_at[0] <= kept + 2 * 60 + 1


def test_a_daily_cron_off_for_a_year_keeps_its_last_days_across_dst(
    looked_at: list[int],
) -> None:
    daily = trigger(cron="0 6 * * *", timezone="Europe/Berlin", catchup="all", max_catchup=3)
    looked_at[0] = 0
    at = parse_iso("2026-03-31T04:00:00Z")
    missed = missed_times(daily, TriggerState(True, 0, fired_at=at - 365 * 1440 * MINUTE), at)
    # 06:00 in Berlin: CET (05:00Z) before 29 March, CEST (04:00Z) from it.
    assert [iso(t) for t in missed] == [
        "2026-03-28T05:00:00Z",
        "2026-03-29T04:00:00Z",
        "2026-03-30T04:00:00Z",
    ]
    assert looked_at[0] <= 5


def test_a_rate_off_for_years_computes_only_the_times_it_keeps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Arithmetic: no time of the pause is enumerated (``rate_times`` over ten years of
    one-minute periods is five million of them)."""
    enumerated = [0]

    def rate_times(*args: Any, **kwargs: Any) -> list[int]:
        times = schedule.rate_times(*args, **kwargs)
        enumerated[0] += len(times)
        return times

    monkeypatch.setattr(triggers, "rate_times", rate_times, raising=False)
    every = trigger(rate="1m", catchup="all", max_catchup=5)
    fired = AT - 10 * 365 * 1440 * MINUTE
    missed = missed_times(every, TriggerState(True, fired, fired_at=fired), AT)
    assert missed == [AT - k * MINUTE for k in range(5, 0, -1)]
    assert enumerated[0] <= 5
    latest = trigger(rate="7m", catchup="latest")
    (last,) = missed_times(latest, TriggerState(True, fired, fired_at=fired), AT)
    # The slot before the firing's own (which the firing runs): its start, 7 to 14 min back.
    assert (last - fired) % (7 * MINUTE) == 0 and AT - 14 * MINUTE < last <= AT - 7 * MINUTE
    assert enumerated[0] <= 5


def test_nothing_is_missed_without_catchup_or_a_gap() -> None:
    cron = trigger(cron="* * * * *", catchup="all")
    assert missed_times(cron, TriggerState(True, 0, fired_at=None), AT) == []
    assert missed_times(cron, TriggerState(True, 0, fired_at=AT), AT) == []
    assert missed_times(cron, TriggerState(True, 0, fired_at=AT - MINUTE), AT) == []
    off = trigger(cron="* * * * *")
    assert missed_times(off, TriggerState(True, 0, fired_at=YEAR_AGO), AT) == []
