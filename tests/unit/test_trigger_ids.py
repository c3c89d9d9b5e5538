"""A trigger without an ``id`` keeps the id it had when other triggers are added or
moved around it (``keep_trigger_ids``): its state (disabled, its catch-up watermark)
stays with it."""

from __future__ import annotations

from typing import Any

from podium.core.dsl.triggers import Trigger, keep_trigger_ids, trigger_ids


def triggers(*specs: dict[str, Any]) -> list[Trigger]:
    return [Trigger.model_validate(s) for s in specs]


CRON = {"cron": "0 5 * * *"}
S3 = {"s3": {"bucket": "landing", "prefix": "raw/"}}
RATE = {"rate": "15m"}


def by_id(before: list[Trigger]) -> dict[str, Trigger]:
    return dict(zip(trigger_ids(before), before, strict=True))


def ids(before: list[Trigger], after: list[Trigger]) -> list[str]:
    return trigger_ids(keep_trigger_ids(after, by_id(before)))


def test_a_trigger_added_before_another_leaves_the_others_id_alone() -> None:
    assert ids(triggers(CRON), triggers(S3, CRON)) == ["s3_0", "cron_0"]


def test_unchanged_triggers_are_returned_as_they_are() -> None:
    before = triggers(S3, CRON, RATE)
    assert keep_trigger_ids(triggers(S3, CRON, RATE), by_id(before)) == (before)


def test_reordered_triggers_keep_their_ids() -> None:
    assert ids(triggers(S3, CRON, RATE), triggers(RATE, CRON, S3)) == ["rate_2", "cron_1", "s3_0"]


def test_a_newcomer_never_takes_a_moved_triggers_id() -> None:
    # The new cron's default (cron_0) is kept by the moved one: it gets the next free id.
    got = ids(triggers(CRON), triggers({"cron": "0 6 * * *"}, CRON))
    assert got == ["cron_1", "cron_0"]
    # ... and avoids a later trigger's default too.
    got = ids(triggers(RATE, CRON), triggers(CRON, RATE, {"cron": "0 7 * * *"}))
    assert got == ["cron_1", "rate_0", "cron_2"]


def test_a_trigger_edited_in_place_keeps_its_default_id() -> None:
    assert ids(triggers(S3, CRON), triggers(S3, {"cron": "0 6 * * *"})) == ["s3_0", "cron_1"]


def test_params_catchup_and_enabled_are_not_what_a_trigger_is() -> None:
    moved = {**CRON, "params": {"x": 1}, "catchup": "all", "enabled": False, "jitter": "5m"}
    assert ids(triggers(CRON), triggers(S3, moved)) == ["s3_0", "cron_0"]
    # the time zone is: 05:00 in Berlin is another schedule
    assert ids(triggers(CRON), triggers(S3, {**CRON, "timezone": "Europe/Berlin"})) == [
        "s3_0",
        "cron_1",
    ]


def test_explicit_ids_win_and_alike_triggers_are_not_followed() -> None:
    assert ids(triggers(CRON), triggers({**S3, "id": "cron_0"}, CRON)) == ["cron_0", "cron_1"]
    # two old triggers alike: which one moved is unknown, so neither is followed
    two = triggers({**S3, "params": {"a": 1}}, {**S3, "params": {"a": 2}})
    assert ids(two, triggers(CRON, *two)) == ["cron_0", "s3_1", "s3_2"]


def test_the_ids_are_unique_and_valid() -> None:
    before = triggers(CRON, S3, RATE, {"cron": "1 * * * *"})
    after = keep_trigger_ids(
        triggers(RATE, {"cron": "1 * * * *"}, CRON, S3, {"cron": "2 * * * *"}, RATE | {"id": "x"}),
        by_id(before),
    )
    got = trigger_ids(after)
    assert len(set(got)) == len(got)
    from podium.core.dsl.triggers import check_triggers

    check_triggers([Trigger.model_validate(t.model_dump()) for t in after])
