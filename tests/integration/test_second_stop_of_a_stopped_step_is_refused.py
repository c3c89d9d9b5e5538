"""A new stop (a new request id) of a step its operator had stopped was done again
(its follow-ups rerun, a second stop on the timeline) instead of refused 409:
``actions._stopped_by_this`` told "the same stop again after a crash" from "another
stop" by the step's reason alone, which a second stop by the same operator also has. It
also asks whether that stop's action was recorded (a crash leaves none).
"""

from __future__ import annotations

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, StepAction
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, step_action

NAPPING = {
    "name": "napping",
    "steps": [
        {"id": "nap", "type": "sleep", "seconds": 600},
        {"id": "doze", "type": "sleep", "seconds": 600},
    ],
}


def test_a_new_stop_of_a_step_the_same_operator_stopped_is_refused() -> None:
    """An operator stops a step (request s1, answered done), then sends another stop of
    it with a new request id (s2): the step is STOPPED already, so the second stop
    should be refused (409 "it is STOPPED", as before this change and as for any other
    operator); it is answered done, its follow-ups redone and a second stop action
    recorded on the timeline."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(NAPPING)
        run_id = rt.start_run("napping").run_id
        rt.pump(wait=False)
        first = step_action(
            rt.services, run_id, "nap", StepAction.STOP, Actor("al", request_id="s1")
        )
        assert first.status == "STOPPED"
        assert rt.store.get_run(run_id).status.value == "RUNNING"  # doze still sleeps
        answer = "done"
        try:
            again = step_action(
                rt.services, run_id, "nap", StepAction.STOP, Actor("al", request_id="s2")
            )
            answer = f"done (status {again.status}, repeated={again.repeated})"
        except ActionRefused:
            return
        stops = [e for e in rt.store.list_events(run_id) if e.step == "nap" and e.kind == "action"]
        pytest.fail(
            f"a second stop (new request id) of a STOPPED step was {answer}, not refused;"
            f" action items of nap: {[e.detail for e in stops]}"
        )
