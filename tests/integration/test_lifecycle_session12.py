"""Fault tolerance of the run lifecycle (session 12's audit), on the memory store, the
SQLite home and DynamoDB on moto:

- a queued run admitted by a process that died before sending its start message sat
  RUNNING with no steps, holding its slot, until the sweeper's next look at it: up to
  half an hour for a run that had waited QUEUED past a sweep. Its admission now moves
  its check to a start's horizon, in the same write, and the sweeper redoes the start
  (idempotent: a start that was only late starts nothing twice);
- strict_sequential: an unblock sent while the failed run's release was still to come
  removed nothing, and the release then blocked the queue again; a block from an old
  failure outlived a switch to another strategy and back;
- a callback whose result the API recorded, and whose done message died with the
  request, timed the step out at its deadline when nothing else looked at it first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.callbacks import CALLBACK_EVENT, token_of
from podium.core.engine.checks import MAX_CHECK_MS
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import lifecycle
from podium.service.admission import unblock
from podium.service.callbacks import callback, parse_callback
from podium.service.lifecycle import run_ended, stop_run
from podium.service.sweep import sweep

MINUTE = 60_000


class Died(RuntimeError):
    """The process (a Lambda) died here."""


class DyingQueue:
    """The event queue as one process sees it: a message ``dies`` names raises."""

    def __init__(self, inner: Any, dies: Callable[[Mapping[str, Any]], bool]) -> None:
        self._inner, self._dies = inner, dies

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        if self._dies(message):
            raise Died(f"before sending {message}")
        self._inner.send(message, delay_seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class HoldingQueue(DyingQueue):
    """The event queue: a message ``holds`` names is kept back (late, not lost)."""

    def __init__(self, inner: Any, holds: Callable[[Mapping[str, Any]], bool]) -> None:
        super().__init__(inner, lambda m: False)
        self._holds = holds
        self.held: list[Mapping[str, Any]] = []

    def send(self, message: Mapping[str, Any], delay_seconds: int = 0) -> None:
        if self._holds(message):
            self.held.append(message)
            return
        super().send(message, delay_seconds)


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def clock_of(rt: LocalRuntime) -> ManualClock:
    assert isinstance(rt.clock, ManualClock)
    return rt.clock


def status(rt: LocalRuntime, run_id: str) -> RunStatus:
    return rt.store.get_run(run_id).status


def napping(name: str, strategy: str = "sequential", seconds: int = 600) -> dict[str, Any]:
    return {
        "name": name,
        "run_strategy": strategy,
        "steps": [{"id": "nap", "type": "sleep", "seconds": seconds}],
    }


def start_of(run_id: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda m: m.get("t") == "start" and m.get("run") == run_id


# ---- 1. an admission whose start message was lost ----------------------------------------


def queued_behind_a_sweep(rt: LocalRuntime) -> tuple[str, str]:
    """Run ``a`` holds the sequential slot; ``b`` waits QUEUED and is looked at by a
    sweep, which moves its next check half an hour out."""
    rt.push(napping("seq"))
    a = rt.start_run("seq").run_id
    rt.pump(wait=False)
    b = rt.start_run("seq").run_id
    assert (status(rt, a), status(rt, b)) == (RunStatus.RUNNING, RunStatus.QUEUED)
    clock_of(rt).advance(6 * MINUTE)
    sweep(rt.services, rt.store)
    check = rt.store.get_run(b).check_at
    assert check is not None and check > clock_of(rt).now_ms() + 20 * MINUTE
    return a, b


def test_an_admission_whose_start_was_lost_is_started_by_the_sweeper_in_minutes(
    rt: LocalRuntime,
) -> None:
    a, b = queued_behind_a_sweep(rt)
    queue = rt.services.event_queue
    rt.services.event_queue = DyingQueue(queue, start_of(b))  # type: ignore[assignment]
    try:
        with pytest.raises(Died):
            stop_run(rt.services, a, "stopped by hand")  # its release admits b, then dies
    finally:
        rt.services.event_queue = queue
    rt.pump(wait=False)
    assert status(rt, b) is RunStatus.RUNNING and rt.store.list_steps(b) == []
    for _ in range(7):  # the sweeper's schedule: every minute
        clock_of(rt).advance(MINUTE)
        sweep(rt.services, rt.store)
        rt.pump(wait=False)
    nap = rt.store.get_step(b, "nap")
    assert nap is not None and (nap.status, nap.attempt) == (StepStatus.RUNNING, 1)
    rt.pump()
    assert status(rt, b) is RunStatus.SUCCEEDED


def test_a_late_start_after_the_sweepers_redo_starts_nothing_twice(rt: LocalRuntime) -> None:
    a, b = queued_behind_a_sweep(rt)
    queue = rt.services.event_queue
    holding = HoldingQueue(queue, start_of(b))
    rt.services.event_queue = holding  # type: ignore[assignment]
    try:
        stop_run(rt.services, a, "stopped by hand")
        for _ in range(7):
            clock_of(rt).advance(MINUTE)
            sweep(rt.services, rt.store)
            rt.pump(wait=False)
    finally:
        rt.services.event_queue = queue
    nap = rt.store.get_step(b, "nap")
    assert nap is not None and (nap.status, nap.attempt) == (StepStatus.RUNNING, 1)
    started = nap.started_at
    (late,) = holding.held
    queue.send(late)  # the admitter's start comes after all
    rt.pump(wait=False)
    for _ in range(10):  # and the sweeper looks again
        clock_of(rt).advance(MINUTE)
        report = sweep(rt.services, rt.store)
        assert f"{b} (start)" not in report.redriven
        rt.pump(wait=False)
    rt.pump()
    nap = rt.store.get_step(b, "nap")
    assert nap is not None and (nap.status, nap.attempt) == (StepStatus.SUCCEEDED, 1)
    assert nap.started_at == started
    kinds = [e.kind for e in rt.store.list_events(b)]
    assert "retry" not in kinds and "reclaim" not in kinds
    assert status(rt, b) is RunStatus.SUCCEEDED


def test_an_admission_that_started_its_run_is_not_started_again(rt: LocalRuntime) -> None:
    a, b = queued_behind_a_sweep(rt)
    stop_run(rt.services, a, "stopped by hand")
    rt.pump(wait=False)
    check = rt.store.get_run(b).check_at
    assert check is not None and check <= clock_of(rt).now_ms() + 10 * MINUTE
    for _ in range(8):
        clock_of(rt).advance(MINUTE)
        report = sweep(rt.services, rt.store)
        assert not [r for r in report.redriven if r.startswith(b)]
        rt.pump(wait=False)
    nap = rt.store.get_step(b, "nap")
    assert nap is not None and (nap.status, nap.attempt) == (StepStatus.RUNNING, 1)
    check = rt.store.get_run(b).check_at  # back to its sleep's lease
    assert check is not None and check <= clock_of(rt).now_ms() + MAX_CHECK_MS


# ---- 2. strict_sequential: unblock, and switching strategy ------------------------------


def kill(rt: LocalRuntime, run_id: str) -> None:
    stop_run(rt.services, run_id, "killed by hand", to=RunStatus.FAILED)


def test_an_unblock_before_the_failed_runs_release_is_not_undone_by_it(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.push(napping("strict", "strict_sequential"))
    a = rt.start_run("strict").run_id
    rt.pump(wait=False)
    b = rt.start_run("strict").run_id

    def dies(*args: object) -> None:
        raise Died("after the run's end, before its slot's release")

    monkeypatch.setattr(lifecycle, "release_slot", dies)
    with pytest.raises(Died):
        kill(rt, a)
    monkeypatch.undo()
    assert status(rt, a) is RunStatus.FAILED
    assert set(rt.store.run_slots().state("strict").holders) == {a}  # its release: to come
    assert unblock(rt.services, "strict") == [b]  # the operator's unblock wins
    run_ended(rt.services, rt.store.get_run(a))  # the release, redone late
    sweep(rt.services, rt.store)
    state = rt.store.run_slots().state("strict")
    assert state.blocked_by is None and set(state.holders) == {b}
    assert status(rt, b) is RunStatus.RUNNING
    rt.pump()
    assert status(rt, b) is RunStatus.SUCCEEDED


def test_a_block_is_cleared_by_runs_admitted_under_another_strategy(rt: LocalRuntime) -> None:
    rt.push(napping("flip", "strict_sequential"))
    a = rt.start_run("flip").run_id
    rt.pump(wait=False)
    b = rt.start_run("flip").run_id
    kill(rt, a)
    assert rt.store.run_slots().state("flip").blocked_by == a
    assert status(rt, b) is RunStatus.QUEUED
    rt.push(napping("flip", "sequential", seconds=601))  # v2: sequential admits b
    assert status(rt, b) is RunStatus.RUNNING
    rt.pump()
    assert status(rt, b) is RunStatus.SUCCEEDED
    rt.push(napping("flip", "strict_sequential", seconds=602))  # v3: strict again
    c = rt.start_run("flip").run_id
    assert rt.store.run_slots().state("flip").blocked_by is None
    assert status(rt, c) is RunStatus.RUNNING  # not blocked by a's old failure


def test_a_strict_run_failing_after_a_switch_away_does_not_block(rt: LocalRuntime) -> None:
    from podium.service.versions import activate

    rt.push(napping("flop", "strict_sequential"))
    a = rt.start_run("flop").run_id
    rt.pump(wait=False)
    rt.push(napping("flop", "sequential", seconds=601))  # v2 active: a keeps v1
    kill(rt, a)  # a strict run fails while the workflow is sequential
    assert rt.store.run_slots().state("flop").blocked_by is None
    activate(rt.services, "flop", 1)  # back to strict_sequential
    c = rt.start_run("flop").run_id
    assert status(rt, c) is RunStatus.RUNNING


def test_switching_away_and_back_with_no_run_between_forgets_the_block(
    rt: LocalRuntime,
) -> None:
    """No run admitted and no sweep between the two switches: the activation itself
    drops a block the new active strategy does not read."""
    rt.push(napping("flap", "strict_sequential"))
    a = rt.start_run("flap").run_id
    rt.pump(wait=False)
    kill(rt, a)
    assert rt.store.run_slots().state("flap").blocked_by == a
    rt.push(napping("flap", "sequential", seconds=601))  # v2: nothing queued to admit
    assert rt.store.run_slots().state("flap").blocked_by is None
    rt.push(napping("flap", "strict_sequential", seconds=602))  # v3: strict again
    c = rt.start_run("flap").run_id
    assert status(rt, c) is RunStatus.RUNNING


def test_a_strict_failure_still_blocks_and_unblock_lets_the_queue_move(
    rt: LocalRuntime,
) -> None:
    rt.push(napping("still", "strict_sequential"))
    a = rt.start_run("still").run_id
    rt.pump(wait=False)
    b = rt.start_run("still").run_id
    kill(rt, a)
    sweep(rt.services, rt.store)
    assert rt.store.run_slots().state("still").blocked_by == a
    assert status(rt, b) is RunStatus.QUEUED
    assert unblock(rt.services, "still") == [b]
    assert status(rt, b) is RunStatus.RUNNING


# ---- 3. a recorded callback result at the step's deadline ------------------------------


def waiting_step(kind: str = "wait_for_callback") -> dict[str, Any]:
    step: dict[str, Any] = {"id": "wait", "type": kind, "timeout": "1h"}
    if kind == "approval":
        step.update(message="ship it?", approvers=["alice"])
    return {
        "name": "cb",
        "steps": [step, {"id": "after", "type": "noop", "depends_on": ["wait"]}],
    }


def recorded_then_died(rt: LocalRuntime, wf: dict[str, Any], body: dict[str, Any]) -> str:
    """The API records the callback's result, and dies before its done message."""
    rt.push(wf)
    run_id = rt.start_run(wf["name"]).run_id
    rt.pump(wait=False)
    token = token_of(f"{run_id}/wait/1")
    queue = rt.services.event_queue
    dies = DyingQueue(queue, lambda m: m.get("e", {}).get("kind") == CALLBACK_EVENT)
    rt.services.event_queue = dies  # type: ignore[assignment]
    try:
        with pytest.raises(Died):
            callback(rt.services, token, parse_callback(body))
    finally:
        rt.services.event_queue = queue
    rt.pump(wait=False)
    wait = rt.store.get_step(run_id, "wait")
    assert wait is not None and wait.status is StepStatus.RUNNING
    return run_id


def test_a_recorded_result_is_applied_at_the_deadline_not_timed_out(rt: LocalRuntime) -> None:
    run_id = recorded_then_died(rt, waiting_step(), {"success": {"rows": 5}})
    clock_of(rt).advance(61 * MINUTE)  # the deadline's timer comes first
    rt.pump()
    wait = rt.store.get_step(run_id, "wait")
    assert wait is not None and (wait.status, wait.output) == (StepStatus.SUCCEEDED, {"rows": 5})
    assert status(rt, run_id) is RunStatus.SUCCEEDED


def test_a_recorded_rejection_is_applied_by_the_sweeper_past_the_deadline(
    rt: LocalRuntime,
) -> None:
    run_id = recorded_then_died(rt, waiting_step("approval"), {"fail": "no", "by": "alice"})
    clock_of(rt).advance(3 * 60 * MINUTE)  # past its lease: the sweeper before the timer
    sweep(rt.services, rt.store)
    wait = rt.store.get_step(run_id, "wait")
    assert wait is not None and wait.status is StepStatus.FAILED
    assert wait.error_type == "Podium.Rejected"
    rt.pump()
    assert status(rt, run_id) is RunStatus.FAILED


def test_with_no_recorded_result_the_deadline_still_times_out(rt: LocalRuntime) -> None:
    rt.push(waiting_step())
    run_id = rt.start_run("cb").run_id
    rt.pump(wait=False)
    clock_of(rt).advance(61 * MINUTE)
    rt.pump()
    wait = rt.store.get_step(run_id, "wait")
    assert wait is not None and wait.status is StepStatus.TIMED_OUT


def test_the_sweeper_clears_a_block_left_under_another_strategy(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No run could be admitted under the other strategy ({parallel: 0}, paused), and the
    push died after activating, before dropping the block: the sweeper, which reads the
    slots anyway, drops the block that nothing orders now."""
    from podium.service import admission

    rt.push(napping("paused", "strict_sequential"))
    a = rt.start_run("paused").run_id
    rt.pump(wait=False)
    kill(rt, a)
    monkeypatch.setattr(admission, "on_activated", admission.admit_next)  # cut short
    rt.push({**napping("paused", "sequential", seconds=601), "run_strategy": {"parallel": 0}})
    monkeypatch.undo()
    b = rt.start_run("paused").run_id
    assert rt.store.run_slots().state("paused").blocked_by == a
    clock_of(rt).advance(6 * MINUTE)
    sweep(rt.services, rt.store)
    assert rt.store.run_slots().state("paused").blocked_by is None
    rt.push(napping("paused", "strict_sequential", seconds=602))  # strict again
    assert status(rt, b) is RunStatus.RUNNING


def test_a_result_recorded_after_the_deadline_still_races_the_timeout(
    rt: LocalRuntime,
) -> None:
    """Received after the deadline (its timeout not handled yet), a result whose done
    message died is not applied by the deadline: it raced it, and the timeout was
    handled first (as when its done message races the deadline's)."""
    rt.push(waiting_step())
    run_id = rt.start_run("cb").run_id
    rt.pump(wait=False)
    clock_of(rt).advance(60 * MINUTE + 1_000)  # past the deadline: its timer not handled
    queue = rt.services.event_queue
    dies = DyingQueue(queue, lambda m: m.get("e", {}).get("kind") == CALLBACK_EVENT)
    rt.services.event_queue = dies  # type: ignore[assignment]
    try:
        with pytest.raises(Died):
            callback(rt.services, token_of(f"{run_id}/wait/1"), parse_callback({"success": 1}))
    finally:
        rt.services.event_queue = queue
    rt.pump()
    wait = rt.store.get_step(run_id, "wait")
    assert wait is not None and wait.status is StepStatus.TIMED_OUT
