"""A removed trigger's state outlives it (its id may have a schedule to delete): a new
trigger without an ``id`` never takes that id, and so never comes up with the removed
one's state (disabled, its catch-up watermark, since when it counts signals)."""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.adapters.schedules import MemorySchedules
from podium.core.dsl.triggers import Trigger, keep_trigger_ids, trigger_ids
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers, schedule_name, set_enabled
from podium.service.workflows import push_workflow

AT_6, AT_7, AT_8 = {"cron": "0 6 * * *"}, {"cron": "0 7 * * *"}, {"cron": "0 8 * * *"}
BASE = {"name": "ids", "steps": [{"id": "a", "type": "noop"}]}


def triggers(*specs: dict[str, Any]) -> list[Trigger]:
    return [Trigger.model_validate(s) for s in specs]


def test_a_newcomer_skips_the_ids_of_removed_triggers() -> None:
    before = {"cron_1": triggers(AT_7)[0]}  # cron_0 (06:00) was removed: its state stays
    after = keep_trigger_ids(triggers(AT_7, AT_8), before, stateful={"cron_0", "cron_1"})
    assert trigger_ids(after) == ["cron_1", "cron_2"]
    # Its default too: 08:00 first is not the removed 06:00 edited in place.
    after = keep_trigger_ids(triggers(AT_8, AT_7), before, stateful={"cron_0", "cron_1"})
    assert trigger_ids(after) == ["cron_2", "cron_1"]


def test_a_trigger_edited_in_place_still_keeps_its_id_and_state() -> None:
    before = dict(zip(["cron_0"], triggers(AT_6), strict=True))
    after = keep_trigger_ids(triggers(AT_8), before, stateful={"cron_0"})
    assert trigger_ids(after) == ["cron_0"] and after[0].id is None  # its default, unwritten


def name(trigger: str) -> str:
    return schedule_name("ids", trigger)


def runtime() -> LocalRuntime:
    return LocalRuntime(
        store="memory", clock=ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    )


def test_a_trigger_added_after_one_was_removed_comes_up_with_a_state_of_its_own() -> None:
    with runtime() as rt:
        rt.services.schedules = schedules = MemorySchedules()
        rt.push({**BASE, "triggers": [AT_6, AT_7]})
        set_enabled(rt.services, "ids", "cron_0", False)  # the 06:00 one is turned off ...
        rt.push({**BASE, "triggers": [AT_7]})  # ... then removed
        version, created = push_workflow(rt.services, {**BASE, "triggers": [AT_7, AT_8]})
        assert created
        listed = {t["id"]: (t["rule"], t["enabled"]) for t in list_triggers(rt.services, "ids")}
        assert listed == {"cron_1": ("0 7 * * * (UTC)", True), "cron_2": ("0 8 * * * (UTC)", True)}
        scheduled = {t for t in ("cron_0", "cron_1", "cron_2") if schedules.get(name(t))}
        assert scheduled == {"cron_1", "cron_2"}
        # The new id is written into the version: pushing the same file again is no change.
        assert [t.get("id") for t in version.document["triggers"]] == ["cron_1", "cron_2"]
        assert push_workflow(rt.services, {**BASE, "triggers": [AT_7, AT_8]})[1] is False


def test_a_trigger_added_where_a_removed_one_was_comes_up_enabled() -> None:
    with runtime() as rt:
        rt.services.schedules = MemorySchedules()
        rt.push({**BASE, "triggers": [AT_6, AT_7]})
        set_enabled(rt.services, "ids", "cron_0", False)
        rt.push({**BASE, "triggers": [AT_7]})
        rt.push({**BASE, "triggers": [AT_8, AT_7]})  # 08:00 at the removed one's position
        listed = {t["id"]: (t["rule"], t["enabled"]) for t in list_triggers(rt.services, "ids")}
        assert listed == {"cron_2": ("0 8 * * * (UTC)", True), "cron_1": ("0 7 * * * (UTC)", True)}
