"""In real time (`podium run --real-time`, `podium runs restart`, step actions that
wait), a run that ended other than SUCCEEDED kept the command waiting about 16 minutes,
silently: its ended-run check is a timer one lease later, and the pump waited for every
timer of the home. It returns when the run is over; the timer stays in the home."""

from __future__ import annotations

import threading
import time
from typing import Any

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

FAILING = {"name": "breaks", "steps": [{"id": "boom", "type": "fail", "message": "no"}]}


def test_a_failed_run_in_real_time_returns_and_leaves_its_check_queued(tmp_path: Any) -> None:
    result: dict[str, Any] = {}
    with LocalRuntime(store="sqlite", virtual_time=False, home=tmp_path / "home") as runtime:

        def run() -> None:
            result["view"] = runtime.run(FAILING)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(120)  # a hang detector, not a timing: it took 16 minutes
        assert not worker.is_alive(), "the run ended, the pump kept waiting"
        assert result["view"].run.status is RunStatus.FAILED
        due = [
            t
            for t in (runtime.event_queue.next_visible_at(), runtime.work_queue.next_visible_at())
            if t is not None
        ]
        assert due and min(due) > time.time() * 1000  # the later check, left for later
