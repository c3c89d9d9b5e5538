"""A step's failure applied after the operator's stop: the stopped run keeps no failure.

A step that failed by its own worker flags its run failing (in the write that ends the
step, store.end_step_failing_run; on a replay, store.mark_run_failing) after the worker
read the run. An operator's stop landing between that read and the
flag write used to leave a STOPPED run carrying the failing flag and the step's error;
the same on a replay of the failure (a duplicate delivery, the sweeper:
attempts.replay_terminal reads the run afresh, but the stop can land right after that
read). The flag is now written only while the run has not ended, and a worker whose
flag was refused propagates nothing more (as replay_terminal does for a run it reads as
ended): the run stays as its stop made it, settled, and nothing is left running.

Deterministic: the stop is made by a store wrapper just before the flag write, on every
store (memory, SQLite, DynamoDB on moto). Complements test_racing_stop_replay.py (the
stop landing before a claim) and the assertion in
test_racing_actions.py::test_stop_against_steps_finishing.
"""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.context import Services
from podium.service.sweep import sweep
from tests.integration.test_branching import BAD_CONDITION

STORES = ["memory", "sqlite", "moto"]


class Crash(Exception):
    """The worker died right after the step's FAILED write, before flagging the run."""


class StopBeforeTheFlag:
    """Wraps a store: the operator's stop lands just before the next flag write (after
    the read of the run it was decided on). With ``crash_after_failed``, the worker
    that writes that step's FAILED end dies right after it (the replay then flags)."""

    def __init__(self, inner: Any, ctx: Services, crash_after_failed: str | None = None) -> None:
        self._inner, self._ctx = inner, ctx
        self._crash = crash_after_failed
        self.armed = crash_after_failed is None
        self.stops: list[str] = []
        self.flags: list[bool] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def transition_step(self, run_id: str, step: str, **kwargs: Any) -> Any:
        record = self._inner.transition_step(run_id, step, **kwargs)
        if self._crash == step and kwargs["to"] is StepStatus.FAILED:
            self._crash, self.armed = None, True
            raise Crash(f"died after {step}'s FAILED write")
        return record

    def end_step_failing_run(self, run_id: str, step: str, **kwargs: Any) -> Any:
        self._stop_if_armed(run_id)
        flagged = self._inner.end_step_failing_run(run_id, step, **kwargs)
        self.flags.append(flagged)
        if self._crash == step:
            self._crash, self.armed = None, True
            raise Crash(f"died after {step}'s FAILED write")
        return flagged

    def mark_run_failing(self, run_id: str, error: str, **kwargs: Any) -> Any:
        self._stop_if_armed(run_id)
        flagged = self._inner.mark_run_failing(run_id, error, **kwargs)
        self.flags.append(flagged)
        return flagged

    def _stop_if_armed(self, run_id: str) -> None:
        if self.armed:
            self.armed = False
            self.stops.append(run_action(self._ctx, run_id, RunAction.STOP, Actor("op")).status)


def _runtime(store: str) -> LocalRuntime:
    if store == "sqlite":
        return LocalRuntime(store="sqlite", home=":memory:", clock=ManualClock())
    return LocalRuntime(store=store, clock=ManualClock())


def _settle(rt: LocalRuntime) -> None:
    """Deliver everything, then let leases and stale checks pass and sweep, twice:
    whatever a worker left behind is found (a run left stuck would show)."""
    for _ in range(3):
        rt.pump()
        rt.clock.advance(rt.services.stale_ready_ms + rt.services.lease_ms + 1)
        sweep(rt.services, rt.store)
    rt.pump()


def _outcome(rt: LocalRuntime, run_id: str) -> dict[str, Any]:
    run = rt.store.get_run(run_id)
    return {
        "run": (run.status, run.settled, run.error, run.failing, run.timed_out),
        "failing_since": run.failing_since,
        "steps": {s.step: s.status for s in rt.store.list_steps(run_id)},
        "active": run_id in rt.store.list_active_run_ids(),
    }


def _stop_before_the_flag(
    store: str, wf: dict[str, Any], crash_after_failed: str | None = None
) -> tuple[StopBeforeTheFlag, dict[str, Any], dict[str, int]]:
    """Run ``wf`` on ``store`` with the operator's stop landing just before the next flag
    write (StopBeforeTheFlag), and settle: the wrapper, the outcome and the run's slot
    holders."""
    with _runtime(store) as rt:
        rt.push(wf)
        wrapped = StopBeforeTheFlag(rt.store, rt.services, crash_after_failed)
        rt.services.store = wrapped  # type: ignore[assignment]
        run_id = rt.start_run(wf["name"]).run_id
        _settle(rt)
        holders = rt.store.run_slots().state(wf["name"]).holders
        return wrapped, _outcome(rt, run_id), holders


STOPPED_CLEAN = (RunStatus.STOPPED, True, None, False, False)


@pytest.mark.parametrize("mode", ["fail_after_running", "fail_immediately"])
@pytest.mark.parametrize("store", STORES)
def test_a_failure_flagged_after_the_stop_leaves_the_stopped_run_clean(
    store: str, mode: str
) -> None:
    """The primary path: the worker wrote the step FAILED, the stop lands, then the
    worker's flag: refused, and nothing more follows from the failure."""
    wf = {
        "name": f"fail_stop_{mode}",
        "steps": [
            {"id": "a", "type": "fail", "message": "boom", "failure_mode": mode},
            {"id": "b", "type": "noop", "depends_on": ["a"]},
        ],
    }
    wrapped, got, holders = _stop_before_the_flag(store, wf)
    assert wrapped.stops == ["STOPPED"]  # the stop won: the run was running
    assert got == {
        "run": STOPPED_CLEAN,
        "failing_since": None,
        # The stop ended the step; b was never decided in the stopped run.
        "steps": {"a": StepStatus.STOPPED},
        "active": False,
    }, got
    assert holders == {}, holders  # the run's slot given back
    assert wrapped.flags == []  # the worker's end found its step stopped: nothing written


@pytest.mark.parametrize("store", STORES)
def test_a_replayed_failure_after_the_stop_adds_nothing_to_the_stopped_run(
    store: str,
) -> None:
    """The replay path: the worker died after the step's FAILED end, which flagged the
    run in the same write; the replay (its message redelivered, or the sweeper) reads
    the run, RUNNING, the stop lands, then the replay's flag: refused. The run stopped
    while failing keeps that failure (as a stop after any failure does), and nothing
    more follows from it."""
    wf = {
        "name": "replay_stop",
        "steps": [
            {"id": "a", "type": "fail", "message": "boom"},
            {"id": "b", "type": "noop", "depends_on": ["a"]},
        ],
    }
    wrapped, got, holders = _stop_before_the_flag(store, wf, crash_after_failed="a")
    assert wrapped.stops == ["STOPPED"]
    failing_since = got["failing_since"]
    assert failing_since is not None, got
    assert got == {
        "run": (RunStatus.STOPPED, True, "a: boom", True, False),
        "failing_since": failing_since,
        "steps": {"a": StepStatus.FAILED},  # b was never decided in the stopped run
        "active": False,
    }, got
    assert holders == {}, holders
    assert wrapped.flags == [True, False]  # flagged with the end; the replay's: refused


@pytest.mark.parametrize("store", STORES)
def test_a_condition_error_flagged_after_the_stop_leaves_the_stopped_run_clean(
    store: str,
) -> None:
    """A ``when`` that fails to evaluate flags the run (service.bindings.EdgeConditions)
    the same way: after the stop, it is refused."""
    wrapped, got, _ = _stop_before_the_flag(store, BAD_CONDITION)
    assert wrapped.stops == ["STOPPED"]
    assert got["run"] == STOPPED_CLEAN, got
    assert got["failing_since"] is None and not got["active"], got
    assert all(s.terminal for s in got["steps"].values()), got
    assert wrapped.flags == [False]


@pytest.mark.parametrize("store", STORES)
def test_a_failure_before_the_stop_is_still_flagged_and_fails_the_run(store: str) -> None:
    """The refusal is only for an ended run: left alone, the same failure flags the run,
    which ends FAILED with the step's error."""
    wf = {
        "name": "fail_alone",
        "steps": [
            {"id": "a", "type": "fail", "message": "boom"},
            {"id": "b", "type": "noop", "depends_on": ["a"]},
        ],
    }
    with _runtime(store) as rt:
        rt.push(wf)
        run_id = rt.start_run("fail_alone").run_id
        _settle(rt)
        got = _outcome(rt, run_id)
    assert got["run"][:2] == (RunStatus.FAILED, True), got
    assert got["run"][2] == "a: boom" and got["run"][3] is True, got
    assert got["steps"] == {"a": StepStatus.FAILED, "b": StepStatus.SKIPPED}, got
