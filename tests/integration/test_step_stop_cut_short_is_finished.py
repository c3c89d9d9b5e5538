"""A step stop that a crash cut short right after its STOPPED write is finished.

Found by the simulation with operators (``python -m podium.sim --seeds 18746:18747
--shapes nested_foreach --actions``: ``ran_while_paused``). ``podium steps stop`` of a
loop step writes the step STOPPED (lifecycle.cancel_step), then terminates its runtime
(the loop's iterations are stopped), gives back its permits and replays the stop's
follow-ups (actions._apply_step_action). A crash between the write and the rest leaves
the iterations running. The same request again (same request id) is refused ("it is
STOPPED; allowed from STOPPED: nothing": no action event was recorded, and the matrix
refuses a stop of a STOPPED step), so nothing finishes the stop but the sweeper, after
``stale_ready_ms``, and only while the run is RUNNING: a paused run's check does not
replay ended steps, and its pause's walk skipped the children of a loop step that is not
RUNNING, so they went on running through the pause. The same stop again now finishes
it (service/actions.py), and a pause's (or resume's) walk stops the children left of an
ended loop or subworkflow step (service/pausing.move_tree).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import ActionRefused, RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action, step_action

LOOPING = {
    "name": "looping",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [1, 2]},
            "steps": [
                {"id": "nap", "type": "sleep", "seconds": 600},
                {"id": "after", "type": "noop", "depends_on": ["nap"]},
            ],
        }
    ],
}


@pytest.fixture
def cut_short() -> Iterator[tuple[LocalRuntime, str]]:
    """A run whose loop step ``each`` an operator stopped, the API dying right after the
    STOPPED write (a 500 to the caller), with both iterations sleeping."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(LOOPING)
        store = rt.services.store
        real = store.transition_step
        crashed: list[str] = []

        def transition_step(run_id: str, step: str, *a: Any, **k: Any) -> Any:
            out = real(run_id, step, *a, **k)
            if step == "each" and k.get("to") is StepStatus.STOPPED and not crashed:
                crashed.append(run_id)
                raise RuntimeError("the API died right after the write")
            return out

        store.transition_step = transition_step  # type: ignore[method-assign]
        run_id = rt.start_run("looping").run_id
        rt.pump(wait=False)
        with contextlib.suppress(RuntimeError):
            step_action(rt.services, run_id, "each", StepAction.STOP, Actor("al", request_id="s1"))
        assert crashed
        yield rt, run_id


def test_the_same_stop_request_again_stops_the_loops_iterations(
    cut_short: tuple[LocalRuntime, str],
) -> None:
    """The caller got a 500 and sent the same stop again (same request id): it was
    refused (409, "it is STOPPED") and the loop's iterations kept running. It finishes
    the stop the crash cut short (as the same retry request finishes a retry in place:
    actions._apply_step_action's RETRIED_BY branch), iterations stopped, and answers
    done; asked a third time, the recorded answer comes back."""
    rt, run_id = cut_short
    answer = "done"
    try:
        step_action(rt.services, run_id, "each", StepAction.STOP, Actor("al", request_id="s1"))
    except ActionRefused as refused:
        answer = f"refused ({refused})"
    rt.pump(wait=False)
    kids = [rt.store.get_run(child_run_id(run_id, "each", i)) for i in range(2)]
    states = [k.status.value for k in kids]
    assert all(k.status.terminal for k in kids), (
        f"the stop asked again was {answer}; the stopped loop's iterations are {states}"
    )
    again = step_action(rt.services, run_id, "each", StepAction.STOP, Actor("al", request_id="s1"))
    assert (again.status, again.repeated) == ("STOPPED", True)


def test_another_stop_of_a_stopped_step_is_still_refused(
    cut_short: tuple[LocalRuntime, str],
) -> None:
    """Only the stop that stopped the step (its actor and reason) is finished when asked
    again: another operator's stop of the stopped step is refused, as before."""
    rt, run_id = cut_short
    with pytest.raises(ActionRefused, match="it is STOPPED"):
        step_action(rt.services, run_id, "each", StepAction.STOP, Actor("bo", request_id="s2"))


def test_the_iterations_of_a_loop_whose_stop_was_cut_short_do_not_run_through_a_pause(
    cut_short: tuple[LocalRuntime, str],
) -> None:
    """The operator then paused the run: the stopped loop's iterations went on, and
    started their next steps while their top run was paused (a pause holds every step
    of the run's tree, docs/operations.md). The pause's walk stops them (the stop the
    crash cut short): nothing starts while the run is paused."""
    rt, run_id = cut_short
    run_action(rt.services, run_id, RunAction.PAUSE, Actor("al", request_id="p1"))
    rt.pump(max_deliveries=20)  # the naps end; nothing else may start
    started = {
        f"each/{i}/after": s.status.value
        for i in range(2)
        for s in rt.store.list_steps(child_run_id(run_id, "each", i))
        if s.step == "after"
    }
    assert rt.store.get_run(run_id).status.value == "PAUSED"
    assert not started, f"steps started under the paused run: {started}"
