"""A run's timeout held only by its one deadline message: delivered early (a clock a
few ms behind the starter's), lost or dead-lettered, the run ran on (a day-long wait
stayed RUNNING), though the sweeper moves the run's check to its deadline. The sweeper
ends it now."""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.sweep import sweep


def test_a_run_whose_deadline_message_was_lost_is_timed_out_by_the_sweeper() -> None:
    with LocalRuntime(clock=ManualClock(), store="memory") as runtime:
        runtime.push(
            {
                "name": "bounded",
                "timeout": 120,
                "steps": [{"id": "nap", "type": "sleep", "seconds": 6 * 3600}],
            }
        )
        schedule = runtime.services.at

        def losing_deadlines(message: Any, due_ms: int, *, queue: str) -> None:
            if not isinstance(message, messages.RunDeadline):  # lost on its way
                schedule(message, due_ms, queue=queue)

        runtime.services.at = losing_deadlines  # type: ignore[method-assign]
        run_id = runtime.start_run("bounded").run_id
        runtime.pump(advance_time=False)
        started = runtime.store.get_run(run_id).started_at
        assert started is not None
        for minute in range(1, 10):
            runtime.clock.advance_to(started + minute * 60_000)
            sweep(runtime.services, runtime.store)
            runtime.pump(advance_time=False)
        run = runtime.store.get_run(run_id)
        assert run.status.value == "TIMED_OUT", run
        assert "timeout of 120 s" in (run.error or "")
