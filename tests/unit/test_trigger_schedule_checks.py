"""Schedules refused at push rather than after the version is stored: a cron step left
out after '/' (which was read as the bare value, and handed to EventBridge Scheduler as
written), a cron that never fires, a rate over a year, and max_catchup without
catchup: all (which nothing reads)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.schedule import Cron, ScheduleError, check_fires, parse_rate


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("5/ 6 * * *", r"minute: '5/' has no step after '/'; write 5/N \(every N from 5\)"),
        ("*/ 6 * * *", r"minute: '\*/' has no step after '/'; write \*/N \(every N\)"),
        ("0 6/ * * *", "hour: '6/' has no step"),
        ("0 6 1,15/ * *", "day of month: '15/' has no step"),
        ("*/\uff15 * * * *", "minute: step '\uff15' must be a positive number"),  # fullwidth 5
        ("*/\u00b2 * * * *", "minute: step '\u00b2' must be a positive number"),  # superscript 2
        ("\uff15 6 * * *", "minute: '\uff15' is not a number"),
    ],
)
def test_a_step_left_out_or_not_in_ascii_digits_is_refused(cron: str, words: str) -> None:
    with pytest.raises(ScheduleError, match=words):
        Cron.parse(cron)


def test_steps_still_work() -> None:
    assert sorted(Cron.parse("5/20 * * * *").minutes) == [5, 25, 45]
    assert sorted(Cron.parse("*/20 * * * *").minutes) == [0, 20, 40]


def test_a_cron_that_never_fires_is_refused() -> None:
    for never in ("0 0 31 2 *", "0 0 30,31 2 *", "0 0 31 4,6,9,11 *"):
        with pytest.raises(ScheduleError, match=r"never fires.*change the day of month"):
            check_fires(Cron.parse(never), "UTC")
    for rare in ("0 0 29 2 *", "0 0 31 1,2 *", "30 2 29 2 *"):
        check_fires(Cron.parse(rare), "Europe/Berlin")


def test_rates_are_at_most_a_year() -> None:
    assert parse_rate("365d") == parse_rate("8760h") == parse_rate("525600m") == 525_600
    for too_long in ("366d", "8761h", "99999999999999999999d", "9" * 5000 + "m"):
        with pytest.raises(ScheduleError, match=r"longer than 365 days.*cron"):
            parse_rate(too_long)
    assert parse_rate("0000000015m") == 15  # leading zeros are not a long number


def issues(trigger: dict[str, Any]) -> list[str]:
    defn = {"name": "t", "steps": [{"id": "a", "type": "noop"}], "triggers": [trigger]}
    with pytest.raises(DefinitionError) as caught:
        validate_definition(defn)
    return [str(i) for i in caught.value.issues]


def test_the_push_refuses_them_naming_the_fix() -> None:
    assert "'*/' has no step after '/'" in issues({"cron": "*/ 6 * * *"})[0]
    assert "never fires" in issues({"cron": "0 0 31 2 *", "timezone": "Europe/Berlin"})[0]
    assert "longer than 365 days" in issues({"rate": "99999999999999999999d"})[0]


def push_issues(trigger: dict[str, Any]) -> list[str]:
    """What a push refuses of a definition with this trigger, which validation (a stored
    version being loaded) lets through."""
    from podium.adapters.clock import ManualClock
    from podium.local.runtime import LocalRuntime

    defn = {"name": "t", "steps": [{"id": "a", "type": "noop"}], "triggers": [trigger]}
    validate_definition(defn)  # a version stored before the check still loads
    with (
        LocalRuntime(store="memory", clock=ManualClock()) as rt,
        pytest.raises(DefinitionError) as caught,
    ):
        rt.push(defn)
    return [str(i) for i in caught.value.issues]


@pytest.mark.parametrize("catchup", [None, "none", "latest"])
def test_max_catchup_without_catchup_all_is_refused_at_push(catchup: str | None) -> None:
    trigger = {"cron": "0 6 * * *", "max_catchup": 5} | ({"catchup": catchup} if catchup else {})
    found = push_issues(trigger)
    assert len(found) == 1 and found[0].startswith("triggers[0].max_catchup: ")
    assert "max_catchup applies with catchup: all only" in found[0]
    assert "add catchup: all, or remove max_catchup" in found[0]


def test_max_catchup_with_catchup_all_and_a_full_dump_read_back_are_accepted() -> None:
    base = {"name": "t", "steps": [{"id": "a", "type": "noop"}]}
    defn = validate_definition(
        {**base, "triggers": [{"rate": "1h", "catchup": "all", "max_catchup": 5}]}
    )
    assert defn.triggers[0].max_catchup == 5
    # A full dump writes the default max_catchup (100) beside catchup: none.
    plain = validate_definition({**base, "triggers": [{"cron": "0 6 * * *"}]})
    dumped = plain.model_dump(mode="json")
    assert dumped["triggers"][0]["max_catchup"] == 100
    assert validate_definition(dumped).triggers == plain.triggers


def test_catchup_on_an_event_trigger_is_refused_at_push() -> None:
    found = push_issues({"s3": {"bucket": "landing"}, "catchup": "all"})
    assert found == [
        "triggers[0].catchup: catchup applies to cron and rate triggers only (nothing is"
        " missed while a trigger of kind s3 is off); remove it"
    ]
