"""A resume whose walk lands after a newer pause keeps that pause's hold on its loops.

A pause marks each running loop step with its reason before it lists the step's
children (``StateStore.hold_children``), and a resume clears the mark: a launch that
read its run running reads the mark back with its launched mark and pauses the children
it created after the pause's listing (service/missed_pause.py). A resume slow to walk
the tree (its run write, then a newer pause in full, then its walk) cleared the newer
pause's mark, so the loop's next batch, launched by a pass that read the run before that
pause, started its iteration RUNNING under the paused run: its body ran during the pause.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

HERE = "tests.integration.test_late_resume_keeps_a_newer_pauses_hold"
CALLS: list[int] = []
ME = Actor("alice")


def work(event: dict[str, Any]) -> int:
    CALLS.append(int(event["payload"]["i"]))
    return 1


LOOP = {
    "name": "late_resume",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1]},
            "concurrency": 1,  # iteration 1 is launched by the pass iteration 0's end runs
            "steps": [
                {
                    "id": "w",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"i": "${iteration.i}"},
                }
            ],
        }
    ],
}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    CALLS.clear()
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def _a_late_resume_inside_the_second_launch(rt: LocalRuntime, top: list[str]) -> list[str]:
    """The pass that launches iteration 1 has read its run RUNNING. Before it creates
    the iteration: a pause, then a resume whose walk comes after a newer pause (the
    newer pause lands between the resume's run write and its clear of the mark)."""
    store = rt.services.store
    create_run, hold_children = store.create_run, store.hold_children
    fired: list[str] = []

    def late_clear(run_id: str, step: str, reason: str | None) -> None:
        if reason is None and fired == ["resuming"]:
            fired.append("paused again")
            run_action(rt.services, top[0], RunAction.PAUSE, ME)  # the newer pause
        hold_children(run_id, step, reason)

    def racing(record: Any, *a: Any, **k: Any) -> Any:
        if not fired and record.parent_run is not None and record.parent_index == 1:
            fired.append("paused")
            run_action(rt.services, top[0], RunAction.PAUSE, ME)
            fired[-1] = "resuming"
            run_action(rt.services, top[0], RunAction.RESUME, ME)
        return create_run(record, *a, **k)

    store.create_run = racing  # type: ignore[method-assign]
    store.hold_children = late_clear  # type: ignore[method-assign]
    return fired


def test_a_late_resume_does_not_let_the_next_batch_run_under_the_newer_pause(
    rt: LocalRuntime,
) -> None:
    """The second iteration ran (its body called) while the run was paused by the newer
    pause. It waits PAUSED for the resume, then runs; the run completes."""
    rt.push(LOOP)
    top: list[str] = []
    run_id = rt.start_run("late_resume").run_id
    top.append(run_id)
    fired = _a_late_resume_inside_the_second_launch(rt, top)
    rt.pump(wait=False)
    assert fired == ["resuming", "paused again"], fired
    store = rt.services.store
    assert store.get_run(run_id).status is RunStatus.PAUSED
    second = store.get_run(child_run_id(run_id, "each", 1))
    assert CALLS == [0] and second.status is RunStatus.PAUSED, (
        f"under the paused run iteration 1 is {second.status.value}; bodies run: {CALLS}"
    )
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump(wait=False)
    assert store.get_run(run_id).status is RunStatus.SUCCEEDED, store.get_run(run_id)
    assert CALLS == [0, 1]
