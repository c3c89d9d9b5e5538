"""A while step whose iteration an operator stopped (`podium runs stop CHILD --reason
...`) failed with "loop: iteration 0 STOPPED" and nothing more: while_loop.py read only
the iteration's ``error``, which a STOPPED run does not have (it keeps why it stopped in
``reason``), while a foreach's iterations page said why. Both now read the iteration's
error by one rule (loop_views.iteration_error).

Found by review R30f."""

from __future__ import annotations

from typing import Any

from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.loop_views import iterations

WHILE: dict[str, Any] = {
    "name": "while_stopped",
    "steps": [
        {
            "id": "loop",
            "type": "while",
            "state": {"n": 0},
            "condition": "state.n < 3",
            "update": {"n": "${state.n + 1}"},
            "steps": [{"id": "nap", "type": "sleep", "seconds": 30}],
        }
    ],
}


def test_a_while_whose_iteration_an_operator_stopped_says_why(memory_rt: LocalRuntime) -> None:
    """The step, and so the run, failed with "loop: iteration 0 STOPPED": the operator's
    reason was missing from it, though the loop's iterations page showed it."""
    rt = memory_rt
    rt.push(WHILE)
    run = rt.start_run("while_stopped")
    rt.pump(advance_time=False)  # iteration 0 sleeps
    child = child_run_id(run.run_id, "loop", 0)
    run_action(rt.services, child, RunAction.STOP, Actor("me", "bad input in batch 7", "stop-1"))
    rt.pump()
    view = rt.describe(run.run_id)
    stopped = rt.services.store.get_run(child)
    assert stopped.status is RunStatus.STOPPED and stopped.reason, stopped
    assert view.run.status is RunStatus.FAILED
    assert view.run.error is not None and "bad input in batch 7" in view.run.error, view.run.error
    assert view.run.error.startswith("loop: iteration 0 STOPPED: "), view.run.error
    # The step's error and the iteration's row say the same.
    page = iterations(rt.services, run.run_id, "loop")
    assert page is not None
    [row] = page["iterations"]
    assert row["error"] == stopped.reason
    assert view.run.error.endswith(stopped.reason), (view.run.error, stopped.reason)
