"""A restart cut short by a fault after it wrote the steps it takes over, and the
operator's next restart of the same run with another ``--from``.

``restart`` writes the taken-over steps under the new run's id (``RUN-r1``) before the
run is created (``before_create``). A refusal for the params leaves nothing (fixed
before: test_restart_refused_leaves_nothing.py), but a throttled or failed write of the
run itself (its run-slot enqueue) left them: the next restart derives the same id,
and ``--from beginning`` (or ``--from STEP``) then finds the old run's steps already
SUCCEEDED under it and did not run them again, keeping their old outputs. Now the
leftovers the next restart does not take over are removed first."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.restart import RestartRequest

WF = {
    "name": "etl_r33d",
    "steps": [
        {"id": "extract", "type": "noop"},
        {"id": "load", "type": "fail", "depends_on": ["extract"]},
    ],
}


class Throttled(Exception):
    """DynamoDB's ProvisionedThroughputExceededException: the write did not happen."""


class _Slots:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "enqueue":

            def throttled(*_args: Any, **_kwargs: Any) -> Any:
                raise Throttled("run_slots.enqueue")

            return throttled
        return getattr(self._inner, name)


class _ThrottledEnqueue:
    """The store, whose run-slot enqueue (the write that creates a queued run) throttles."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def run_slots(self) -> Any:
        return _Slots(self._inner.run_slots())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.mark.parametrize("start_from", ["beginning", "extract"])
def test_a_restart_after_one_cut_short_reruns_what_it_asks_for(
    memory_rt: LocalRuntime, start_from: str
) -> None:
    memory_rt.push(WF)
    run_id = memory_rt.start_run("etl_r33d").run_id
    memory_rt.pump()
    assert memory_rt.store.get_run(run_id).status is RunStatus.FAILED

    throttled = dataclasses.replace(memory_rt.services, store=_ThrottledEnqueue(memory_rt.store))
    with pytest.raises(Throttled):  # the API answers 500; no run was created
        run_action(throttled, run_id, RunAction.RESTART, Actor("op", "retry"), RestartRequest())

    new = run_action(
        memory_rt.services,
        run_id,
        RunAction.RESTART,
        Actor("op", "from scratch"),
        RestartRequest(start_from=start_from),
    ).new_run
    assert new is not None
    memory_rt.pump()
    extract = memory_rt.store.get_step(new, "extract")
    assert extract is not None
    assert not (extract.reason or "").startswith("reused from run"), (
        f"restart --from {start_from} took 'extract' over from the failed restart's"
        f" leftovers instead of running it: {extract.reason!r}"
    )
