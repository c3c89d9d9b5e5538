"""A pause's hold mark written after a resume has undone that pause holds nothing.

A pause marks each running loop step with its reason before it lists the step's
children; a launch that read its run running reads the mark back with its launched mark
(service/missed_pause.py). A pause slow to walk the tree (its run write, then a resume
in full, then its mark) left its mark on the loop step of a running run, and the loop's
next batch, reading it, paused its new iteration under the running run: it waited for
the sweeper (minutes) to resume it. The launch now reads the run again when it finds a
mark, and the mark of a pause undone holds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import run_action
from tests.integration import test_late_resume_keeps_a_newer_pauses_hold as late_resume

CALLS, ME = late_resume.CALLS, late_resume.ME


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    CALLS.clear()
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def test_the_next_batch_of_a_resumed_run_starts_at_once(rt: LocalRuntime) -> None:
    """Iteration 1 was created PAUSED under its RUNNING run (the late mark), and had not
    run when everything due had been delivered. It runs, and the run completes."""
    rt.push(late_resume.LOOP)
    store = rt.services.store
    top: list[str] = []
    fired: list[str] = []

    def pause(record: Any, *_: Any, **__: Any) -> None:
        if not fired and late_resume.second_iteration(record):
            fired.append("pausing")
            run_action(rt.services, top[0], RunAction.PAUSE, ME)

    def resume_before_the_mark(run_id: str, step: str, reason: str | None) -> None:
        if reason is not None and fired == ["pausing"]:
            fired.append("resumed")
            run_action(rt.services, top[0], RunAction.RESUME, ME)  # before the mark

    late_resume.before_each_call(rt, "create_run", pause)
    late_resume.before_each_call(rt, "hold_children", resume_before_the_mark)
    run_id = rt.start_run("late_resume").run_id
    top.append(run_id)
    rt.pump(wait=False)
    assert fired == ["pausing", "resumed"], fired
    assert (store.get_run(run_id).status, CALLS) == (RunStatus.SUCCEEDED, [0, 1]), (
        store.get_run(run_id),
        CALLS,
    )
