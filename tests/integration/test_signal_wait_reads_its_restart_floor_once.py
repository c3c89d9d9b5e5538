"""A ``since: step_start`` wait read the run its run redoes on every check that found no
match (service/signal_waits.py ``check`` called ``released_with`` each time): a loop
iteration that is no restart read its parent run (one ``get_run`` per nesting level)
on every check, i.e. on every signal of that name sent while it waited; a restarted
run's step read the old step (and its ``signals``, a Payloads GET when stored by
reference) on every check. The console's view of the wait read it too. The floor is now
read once, as the wait begins, and kept on the step (``kept_signals``)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.actions import RunAction, StepAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import signal_waits
from podium.service.actions import Actor, run_action, step_action
from podium.service.console_views import step_detail
from podium.service.restart import RestartRequest
from podium.service.signals import send_signal
from podium.service.sweep import sweep
from tests.conftest import foreach
from tests.integration.test_callback_run_deadline import CountingStore as TimelineReads
from tests.integration.test_restarted_step_start_wait_counts_its_kept_signal_on_every_check import (
    BROKEN,
    DAY,
    clock,
    rt_fixture,  # noqa: F401  (the fixture `rt`)
    status,
    work,
)

FUNCTION = f"{work.__module__}:work"
CHECKS = 5  # signals sent while the step waits: one check each


class CountingStore(TimelineReads):
    """The store, counting the runs and steps read, by (run, step) (and, as the one it
    extends, its timeline reads)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.runs_read: list[str] = []
        self.steps_read: list[tuple[str, str]] = []

    def get_run(self, run_id: str, *args: Any, **kwargs: Any) -> Any:
        self.runs_read.append(run_id)
        return self._inner.get_run(run_id, *args, **kwargs)

    def get_step(self, run_id: str, step: str, *args: Any, **kwargs: Any) -> Any:
        self.steps_read.append((run_id, step))
        return self._inner.get_step(run_id, step, *args, **kwargs)


def counting(rt: LocalRuntime) -> CountingStore:
    store = CountingStore(rt.services.store)
    rt.services.store = store  # type: ignore[assignment]
    return store


def send(
    rt: LocalRuntime, name: str, request_id: str, ttl_ms: int = 90 * DAY, **params: Any
) -> None:
    send_signal(rt.services, SignalRequest(name, params, request_id=request_id, ttl_ms=ttl_ms))


def _report(*wait_for: dict[str, Any]) -> dict[str, Any]:
    """The step that waits (10 days at most) for ``wait_for``, then runs ``work``."""
    return {
        "id": "report",
        "type": "lambda",
        "function": FUNCTION,
        "timeout": "10d",
        "wait_for": list(wait_for),
    }


LOOPED = {
    "name": "looped",
    "steps": [
        foreach(
            "days",
            {"i": [0]},
            _report({"signal": "sales_ready", "match": {"day": "d1"}, "since": "step_start"}),
        )
    ],
}


def test_a_loop_iterations_checks_read_no_parent_run(rt: LocalRuntime) -> None:
    """Each signal of the name (none matching) woke the iteration's step: each check
    read the parent run to learn that the iteration redoes nothing."""
    rt.push(LOOPED)
    run = rt.start_run("looped")
    rt.pump(advance_time=False)
    child = child_run_id(run.run_id, "days", 0)
    assert status(rt, child, "report") is StepStatus.WAITING_FOR_SIGNALS

    store = counting(rt)
    for n in range(CHECKS):
        clock(rt).advance(1000)
        send(rt, "sales_ready", f"other-{n}", day="d2")
        rt.pump(advance_time=False)
    assert status(rt, child, "report") is StepStatus.WAITING_FOR_SIGNALS
    assert store.runs_read.count(run.run_id) == 0, store.runs_read
    # The sweeper's look and the console read none either.
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    section = step_detail(rt.services, child, "report")["signals"]
    assert section is not None and section["entries"][0]["arrived"] is False
    assert store.runs_read.count(run.run_id) == 0, store.runs_read
    record = rt.store.get_step(child, "report")
    assert record is not None and record.kept_signals == {}  # read as the wait began

    send(rt, "sales_ready", "mine", day="d1")
    rt.pump(advance_time=False)
    assert status(rt, child, "report") is StepStatus.SUCCEEDED


TWO_NAMES: dict[str, Any] = {
    "name": "two_names",
    "steps": [
        _report(
            {"signal": "sales_ready", "since": "step_start"},
            {"signal": "costs_ready", "match": {"day": "d1"}},  # since: any
        )
    ],
}


# The same wait beside a step that runs on (the run goes on when the wait times out).
BESIDE = {
    "name": "beside",
    "steps": [
        {**TWO_NAMES["steps"][0], "timeout": "1h"},
        {"id": "other", "type": "sleep", "seconds": 6 * 3600, "timeout": "1d"},
    ],
}


def _restarted_waiting(
    rt: LocalRuntime, workflow: dict[str, Any] = TWO_NAMES, start: str = "incomplete"
) -> tuple[str, str]:
    """report released by sales_ready and costs_ready (ttl 1 day), failed; restarted two
    days later: costs_ready has expired, so the restarted report waits for it, counting
    the sales_ready it was released with. (old run, new run)"""
    rt.push(workflow)
    BROKEN.add("report")
    run = rt.start_run(workflow["name"])
    rt.pump(advance_time=False)
    clock(rt).advance(1000)
    send(rt, "sales_ready", "sales-1")
    send(rt, "costs_ready", "costs-1", ttl_ms=DAY, day="d1")
    rt.pump(advance_time=False)
    BROKEN.clear()
    clock(rt).advance(2 * DAY)
    rt.pump(advance_time=False)
    assert rt.store.get_run(run.run_id).status is RunStatus.FAILED
    result = run_action(
        rt.services, run.run_id, RunAction.RESTART, Actor("ops"), RestartRequest(start)
    )
    assert result.new_run is not None
    rt.pump(advance_time=False)
    assert status(rt, result.new_run, "report") is StepStatus.WAITING_FOR_SIGNALS
    return run.run_id, result.new_run


def _checked(rt: LocalRuntime, times: int) -> None:
    """Wake the waiting step ``times`` times: a costs_ready that does not match each."""
    for n in range(times):
        clock(rt).advance(1000)
        send(rt, "costs_ready", f"costs-other-{n}", ttl_ms=DAY, day="d2")
        rt.pump(advance_time=False)


def test_a_restarts_checks_read_the_old_step_no_more(rt: LocalRuntime) -> None:
    """Each check of the restarted step read the old run's step (and its signals) to
    count the sales_ready it was released with."""
    old, new = _restarted_waiting(rt)
    store = counting(rt)
    _checked(rt, CHECKS)
    assert status(rt, new, "report") is StepStatus.WAITING_FOR_SIGNALS
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    by_name = {
        e["signal"]: e for e in step_detail(rt.services, new, "report")["signals"]["entries"]
    }
    assert by_name["sales_ready"]["arrived"] is True
    assert (old, "report") not in store.steps_read, store.steps_read
    record = rt.store.get_step(new, "report")
    assert record is not None and record.kept_signals is not None
    assert set(record.kept_signals) == {"sales_ready"}  # only the entry that counts it

    send(rt, "costs_ready", "costs-2", ttl_ms=DAY, day="d1")
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.SUCCEEDED
    assert (old, "report") not in store.steps_read, store.steps_read


def test_a_wait_begun_before_the_floor_was_kept_still_counts_it(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard: a step that began to wait under the previous release (no ``kept_signals``
    on its record: an upgrade mid-wait) reads the floor on its checks, as then."""
    monkeypatch.setattr(signal_waits, "_kept_at_start", lambda *_: None, raising=False)
    _, new = _restarted_waiting(rt)
    record = rt.store.get_step(new, "report")
    assert record is not None and getattr(record, "kept_signals", None) is None
    monkeypatch.undo()
    _checked(rt, 2)
    by_name = {
        e["signal"]: e for e in step_detail(rt.services, new, "report")["signals"]["entries"]
    }
    assert by_name["sales_ready"]["arrived"] is True
    send(rt, "costs_ready", "costs-2", ttl_ms=DAY, day="d1")
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.SUCCEEDED


def test_a_retried_wait_keeps_the_floor_its_first_wait_read(rt: LocalRuntime) -> None:
    """Guard: the restarted step's wait timed out and was retried (RETRY_WAIT ->
    WAITING_FOR_SIGNALS): the new wait counts the same sales_ready, without reading the
    old run's step again."""
    old, new = _restarted_waiting(rt, BESIDE, "beginning")
    clock(rt).advance(3_600_000 + 1000)
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.TIMED_OUT

    store = counting(rt)
    step_action(rt.services, new, "report", StepAction.RETRY, Actor("ops"))
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.WAITING_FOR_SIGNALS
    _checked(rt, 2)
    send(rt, "costs_ready", "costs-2", ttl_ms=DAY, day="d1")
    rt.pump(advance_time=False)
    assert status(rt, new, "report") is StepStatus.SUCCEEDED
    assert (old, "report") not in store.steps_read, store.steps_read
