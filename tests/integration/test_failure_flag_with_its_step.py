"""A step's final failure and its run's failing flag are one write.

fail_after_running: once a step fails, no step released after it starts (Maestro). The
step's FAILED end and the run's failing flag were two writes: a worker that died
between them left the flag to the replay of its message (the work queue's visibility,
minutes) or the sweeper, and a sibling branch that ended meanwhile read the run as not
failing and started its successors. Both are now written in one transaction
(StateStore.end_step_failing_run): a crash leaves both or neither.

Deterministic: a store wrapper kills the worker right after the write that records the
step's FAILED end, on every store (memory, SQLite, DynamoDB on moto).
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

STORES = ["memory", "sqlite", "moto"]

WF = {
    "name": "fail_beside_nap",
    "steps": [
        {"id": "boom", "type": "fail", "message": "boom"},
        {"id": "nap", "type": "sleep", "seconds": 60},
        {"id": "after", "type": "noop", "depends_on": ["nap"]},
    ],
}


class Crash(Exception):
    """The worker died right after the write that ended the step FAILED."""


class CrashAfterFailed:
    """Wraps a store: the worker that writes ``step``'s FAILED end dies right after it,
    whichever store method made that write."""

    def __init__(self, inner: Any, step: str) -> None:
        self._inner, self._step = inner, step
        self.crashed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _maybe_crash(self, step: str, to: StepStatus) -> None:
        if not self.crashed and step == self._step and to is StepStatus.FAILED:
            self.crashed = True
            raise Crash(f"died after {step}'s FAILED write")

    def transition_step(self, run_id: str, step: str, **kwargs: Any) -> Any:
        record = self._inner.transition_step(run_id, step, **kwargs)
        self._maybe_crash(step, kwargs["to"])
        return record

    def end_step_failing_run(self, run_id: str, step: str, **kwargs: Any) -> Any:
        flagged = self._inner.end_step_failing_run(run_id, step, **kwargs)
        self._maybe_crash(step, kwargs["to"])
        return flagged


def _runtime(store: str) -> LocalRuntime:
    if store == "sqlite":
        return LocalRuntime(store="sqlite", home=":memory:", clock=ManualClock())
    return LocalRuntime(store=store, clock=ManualClock())


@pytest.mark.parametrize("store", STORES)
def test_a_worker_dying_after_a_failure_lets_no_sibling_successor_start(store: str) -> None:
    with _runtime(store) as rt:
        rt.push(WF)
        wrapped = CrashAfterFailed(rt.store, "boom")
        rt.services.store = wrapped  # type: ignore[assignment]
        run_id = rt.start_run(WF["name"]).run_id
        for _ in range(3):  # the nap ends, the crashed message comes back, the sweeper
            rt.pump()
            rt.clock.advance(rt.services.stale_ready_ms + rt.services.lease_ms + 1)
            sweep(rt.services, rt.store)
        rt.pump()
        run = rt.store.get_run(run_id)
        steps = {s.step: s.status for s in rt.store.list_steps(run_id)}
    assert wrapped.crashed
    assert (run.status, run.error) == (RunStatus.FAILED, "boom: boom"), run
    # nap was running when boom failed: it finishes; what it releases does not start.
    assert steps == {
        "boom": StepStatus.FAILED,
        "nap": StepStatus.SUCCEEDED,
        "after": StepStatus.SKIPPED,
    }, steps
