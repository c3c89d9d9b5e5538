"""An identical push after a rollback, of a version that added a trigger without an
``id``.

v1 has no triggers; v2 adds a cron (id ``cron_0``). The operator disabled ``cron_0``,
rolled back to v1, then pushed v2's file again: the push made v3, with the trigger as
``cron_1`` (ids were given against the active version, v1, and ``cron_0``, whose state
is stored, counted as retired), instead of making v2 active again as the docs promise
for an identical push; and the disabled state stayed under ``cron_0``, so the trigger
came back enabled and its schedule fired. Ids are now tried against the latest version
first: the file that is the latest version gets its ids, and is that version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service import versions
from podium.service.triggers import list_triggers, schedule_name, set_enabled
from podium.service.workflows import push_definition

V1: dict[str, Any] = {"name": "repushed", "steps": [{"id": "a", "type": "noop"}]}
V2: dict[str, Any] = {**V1, "triggers": [{"cron": "0 6 * * *"}]}  # no id: cron_0


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, home=home) as runtime:
        yield runtime


def test_the_same_file_pushed_after_a_rollback_makes_the_latest_version_active_again(
    rt: LocalRuntime,
) -> None:
    ctx = rt.services
    push_definition(ctx, V1)
    assert push_definition(ctx, V2).version.version == 2
    versions.rollback(ctx, "repushed")
    assert ctx.store.active_version("repushed") == 1

    pushed = push_definition(ctx, V2)  # the very file v2 was pushed from

    assert (pushed.version.version, pushed.created, pushed.reactivated) == (2, False, 1)
    assert ctx.store.active_version("repushed") == 2


def test_a_trigger_disabled_before_the_rollback_stays_off_after_the_same_file_is_pushed(
    rt: LocalRuntime,
) -> None:
    ctx = rt.services
    assert ctx.schedules is not None
    push_definition(ctx, V1)
    push_definition(ctx, V2)
    set_enabled(ctx, "repushed", "cron_0", False)  # the operator turns it off
    versions.rollback(ctx, "repushed")

    push_definition(ctx, V2)

    # The trigger the operator disabled is still off: no schedule fires it.
    assert [(t["id"], t["enabled"]) for t in list_triggers(ctx, "repushed")] == [("cron_0", False)]
    assert ctx.schedules.get(schedule_name("repushed", "cron_1")) is None
