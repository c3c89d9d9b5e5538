"""A path into a loop a restart took over, once the run the loop ran in is gone.

Run R's foreach succeeds and the step after it fails; R is restarted as R-r1, which
takes the foreach over (its iterations ran in R) and fails again. A prune then deletes
R (its restart has ended: it goes by its own age). ``podium runs restart R-r1 --from
loop/2/work`` was refused with "iteration 2 of 'loop' never ran in run R-r1 (no
iteration ran)", though R-r1's loop step shows it SUCCEEDED with 4 outputs: the refusal
now says the run it ran in is gone, and what restart still works (from the loop)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.sqlite.db import Database
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.prune import prune_runs
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, RestartRequest, run_action
from tests.integration.test_taken_over_loop_counts_and_step_actions import DOC

DAY_MS = 86_400_000
ME = Actor("alice")


def test_a_path_into_a_loop_whose_run_is_gone_says_so(tmp_path: Path) -> None:
    home = tmp_path / "home"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", home=str(home), clock=clock) as rt:
        rt.push(DOC)
        old = rt.start_run(DOC["name"]).run_id
        rt.pump()
        clock.advance(2 * DAY_MS)  # R ended two days before its restart
        new = run_action(rt.services, old, RunAction.RESTART, ME).new_run
        assert new is not None
        rt.pump()
        assert rt.describe(new).run.status is RunStatus.FAILED
        clock.advance(2 * DAY_MS)
        db = Database(home / "podium.db")
        try:
            report = prune_runs(db, home / "payloads", clock.now_ms() - 3 * DAY_MS)
        finally:
            db.close()
        assert report.runs == 1  # R went; R-r1 is newer

        with pytest.raises(DefinitionError) as refused:
            run_action(rt.services, new, RunAction.RESTART, ME, RestartRequest("loop/2/work"))
        message = str(refused.value)
        assert "never ran" not in message, message
        assert f"ran in run {old}, which is gone (pruned, or expired)" in message, message
        assert "restart from 'loop' to run the loop again" in message, message
        # From the loop, it restarts (every iteration runs again).
        again = run_action(rt.services, new, RunAction.RESTART, ME, RestartRequest("loop"))
        assert again.new_run is not None
