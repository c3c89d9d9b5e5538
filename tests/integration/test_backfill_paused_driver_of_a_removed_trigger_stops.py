"""A paused backfill driver whose trigger was removed from the active version ticked on
for ever (one read and one message every 30 s): the pause check came before the
'trigger is gone' stop, and neither --resume nor --cancel can name a trigger that is no
longer in the active version. The driver stops at its next tick, paused or not."""

from __future__ import annotations

from podium.local.runtime import LocalRuntime
from podium.service.backfill import pause
from tests.integration import test_backfill_cancel as cancel_tests
from tests.integration.test_backfill_cancel import WF
from tests.integration.test_backfill_pause import _a_while, _ask

rt = cancel_tests.rt


def test_a_paused_driver_stops_once_its_trigger_is_gone(rt: LocalRuntime) -> None:
    first = _ask(rt)
    assert first["waiting_for_max_active"] == 4
    pause(rt.services, "bf_cancel", None, True)
    rt.push({**WF, "triggers": []})  # the schedule is removed: nothing can resume it
    _a_while(rt, 5)
    # Before the pause existed the driver stopped at its next tick ("trigger is gone");
    # now it re-sends itself every 30 s, for ever (no resume or cancel can reach it).
    assert len(rt.event_queue) == 0
