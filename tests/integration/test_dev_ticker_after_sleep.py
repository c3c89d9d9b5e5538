"""``podium dev``'s ticker, after the process was suspended (a laptop asleep
overnight), fired every scheduled time of the sleep at once, whatever the trigger's
``catchup`` says; now a tick fires each schedule's latest due time alone, and the
trigger's ``catchup`` decides about the times before it.

local/schedule_ticker.py ``tick`` sent one fire message per time ``MemorySchedules.due``
returned, every time in (last look, now]: the ticker looks once a second, so after 8
hours without a look a ``*/15`` cron with ``catchup: none`` (the default: "missed times
are not run") started 32 runs on wake-up, a per-minute one 480. EventBridge Scheduler,
which the ticker stands in for, never replays a backlog, and a *stopped* ``podium dev``
fires nothing missed on its next start.
"""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.local.schedule_ticker import ScheduleTicker

WF = {
    "name": "t_wake",
    "params": {"day": {"type": "string", "default": "none"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 50},
    "triggers": [{"id": "often", "cron": "*/15 * * * *"}],  # catchup: none (the default)
}


def test_a_dev_server_waking_from_sleep_does_not_replay_the_night() -> None:
    clock = ManualClock(start_ms=parse_iso("2026-05-04T22:00:30Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(WF)
        ticker = ScheduleTicker(rt)
        ticker.prime()
        assert ticker.tick() == 0  # the first look: from now on
        clock.advance_to(parse_iso("2026-05-04T22:15:01Z"))
        assert ticker.tick() == 1  # awake: the 22:15 time fires
        rt.pump(advance_time=False)

        clock.advance_to(parse_iso("2026-05-05T06:15:01Z"))  # the laptop slept 8 hours
        ticker.tick()
        rt.pump(advance_time=False)
        runs = sorted(r.created_at for r in rt.store.list_runs("t_wake", 100))
    assert len(runs) == 2, (
        f"catchup: none, yet waking up started {len(runs) - 1} runs for the times slept through"
    )
