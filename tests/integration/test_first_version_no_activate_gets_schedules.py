"""A workflow's first version pushed with ``--no-activate`` is active anyway
(docs/operations.md, "Versions"), and its trigger routes were added, but its cron and
rate schedules were not made (``sync_triggers`` ran only for a push that activates),
while ``podium triggers list`` showed the trigger enabled: nothing fired it until a
later push. A first version's push now syncs its triggers however it was pushed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers, schedule_name
from podium.service.workflows import push_definition

V1: dict[str, Any] = {
    "name": "stored_first",
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [{"id": "nightly", "cron": "0 6 * * *"}],
}


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store=request.param, clock=clock, home=home) as runtime:
        yield runtime


def test_a_first_version_pushed_without_activate_gets_its_schedules(rt: LocalRuntime) -> None:
    ctx = rt.services
    assert ctx.schedules is not None
    pushed = push_definition(ctx, V1, activate=False)
    assert (pushed.version.version, pushed.version.active_version) == (1, 1)  # active anyway
    assert [t["enabled"] for t in list_triggers(ctx, "stored_first")] == [True]

    # The active version's enabled cron trigger has its schedule, as after any push.
    assert ctx.schedules.get(schedule_name("stored_first", "nightly")) is not None
