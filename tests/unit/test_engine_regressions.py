"""Regression tests for the engine bugs found by driving the service code with random
fault schedules (issue: engine core). Each fails on the code before its fix.

They run the real service code on the memory store with a manual clock; a crash is an
exception raised right after a chosen store call, which fails that delivery (the
message stays queued and is redelivered after its visibility timeout)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import inbox
from podium.service.runs import start_run
from podium.service.sweep import sweep

CALLS: Counter[str] = Counter()


def counted(event: dict[str, Any]) -> str:
    CALLS[f"{event['run']['id']}/{event['step']}/{event['attempt']}"] += 1
    return event["step"]


def fails_once(event: dict[str, Any]) -> str:
    if event["attempt"] == 1:
        raise RuntimeError("first attempt fails")
    return "ok"


def deep_output(event: dict[str, Any]) -> Any:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    return value


def huge_error(event: dict[str, Any]) -> Any:
    raise ValueError("x" * 500_000)


def nan_output(event: dict[str, Any]) -> Any:
    return {"score": math.nan}


HERE = "tests.unit.test_engine_regressions"


class Crash(Exception):
    """The process died right after this call."""


class CrashOnce:
    """Wraps a store (and its permits/slots views): the first call that matches
    ``when(name, args, kwargs)`` completes, then the process 'dies'."""

    def __init__(self, inner: Any, when: Callable[[str, tuple[Any, ...], dict[str, Any]], bool]):
        self._inner, self._when, self.fired = inner, when, False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in ("permits", "run_slots"):
            return lambda: CrashOnce(attr(), self._share(name))
        if not callable(attr):
            return attr

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if not self.fired and self._when(name, args, kwargs):
                self.fired = True
                raise Crash(name)
            return result

        return wrapped

    def _share(self, view: str) -> Callable[[str, tuple[Any, ...], dict[str, Any]], bool]:
        def when(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
            if self.fired or not self._when(f"{view}.{name}", args, kwargs):
                return False
            self.fired = True
            raise Crash(f"{view}.{name}")

        return when


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def crash_on(
    rt: LocalRuntime, when: Callable[[str, tuple[Any, ...], dict[str, Any]], bool]
) -> CrashOnce:
    wrapper = CrashOnce(rt.store, when)
    rt.services.store = wrapper  # type: ignore[assignment]
    return wrapper


def test_bug1_slot_released_after_a_crash_between_the_terminal_write_and_the_release(
    rt: LocalRuntime,
) -> None:
    rt.push({"name": "seq", "steps": [{"id": "a", "type": "noop"}]})
    crash = crash_on(
        rt, lambda n, a, k: n == "transition_run" and k.get("to") is RunStatus.SUCCEEDED
    )
    run = rt.start_run("seq")
    rt.pump()
    assert crash.fired
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    # the redelivered message (or, at the latest, the sweeper) gives the slot back
    sweep(rt.services, rt.store)
    assert rt.store.run_slots().state("seq").holders == {}
    assert rt.store.list_active_run_ids() == []


def test_bug2_permit_released_after_a_crash_between_the_end_write_and_the_release(
    rt: LocalRuntime,
) -> None:
    rt.push(
        {
            "name": "keyed",
            "steps": [
                {"id": "a", "type": "noop", "concurrency": {"key": "db", "limit": 1}},
                {"id": "b", "type": "noop", "depends_on": ["a"]},
            ],
        }
    )
    crash = crash_on(
        rt, lambda n, a, k: n == "transition_step" and k.get("to") is StepStatus.SUCCEEDED
    )
    run = rt.start_run("keyed")
    rt.pump()
    assert crash.fired
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    assert rt.store.permits().state("db").holders == {}


def test_bug3_the_sweeper_waits_for_a_long_retry_delay(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "slow_retry",
            "steps": [
                {
                    "id": "a",
                    "type": "lambda",
                    "function": f"{HERE}:fails_once",
                    "retries": 1,
                    "retry_delay_seconds": 3600,
                }
            ],
        }
    )
    run = rt.start_run("slow_retry")
    rt.pump(max_deliveries=2)  # start + attempt 1 (fails: RETRY_WAIT, due in an hour)
    assert rt.store.get_step(run.run_id, "a").status is StepStatus.RETRY_WAIT  # type: ignore[union-attr]
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(400_000)  # past the sweeper's staleness window, long before the hour
    report = sweep(rt.services, rt.store)
    assert not any("/a" in r for r in report.redriven)
    rt.pump()
    step = rt.store.get_step(run.run_id, "a")
    assert step is not None and step.status is StepStatus.SUCCEEDED and step.attempt == 2
    assert step.started_at is not None and step.ready_at is not None
    retry = next(e for e in rt.store.list_events(run.run_id) if e.kind == "retry")
    assert step.started_at - retry.at >= 3_600_000


def test_bug4_a_retry_after_a_lost_permit_release_claims_without_a_message_loop(
    rt: LocalRuntime,
) -> None:
    rt.push(
        {
            "name": "keyed_retry",
            "steps": [
                {
                    "id": "a",
                    "type": "lambda",
                    "function": f"{HERE}:fails_once",
                    "retries": 1,
                    "retry_delay_seconds": 1,
                    "concurrency": {"key": "k4", "limit": 1},
                }
            ],
        }
    )
    # die right after RETRY_WAIT is written: the permit is still held by attempt 1
    crash = crash_on(
        rt, lambda n, a, k: n == "transition_step" and k.get("to") is StepStatus.RETRY_WAIT
    )
    run = rt.start_run("keyed_retry")
    rt.pump(max_deliveries=2)
    assert crash.fired
    assert rt.store.permits().state("k4").holders  # the stale hold of attempt 1
    # the retry's exec arrives (from the sweeper or a replay): it must not find itself
    # in the way and loop through WAITING_FOR_PERMITS and wake-ups
    inbox.handle_work(rt.services, {"t": "exec", "run": run.run_id, "step": "a", "attempt": 2})
    delivered = rt.pump()
    assert delivered < 20
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    assert rt.store.permits().state("k4").holders == {}


def test_bug5_last_only_an_older_start_arriving_late_never_stops_the_newer_run(
    rt: LocalRuntime,
) -> None:
    rt.push(
        {
            "name": "latest",
            "run_strategy": "last_only",
            "steps": [{"id": "a", "type": "sleep", "seconds": 60}],
        }
    )
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    t0 = clock.now_ms()
    clock.advance_to(t0 + 2_000)
    newer = start_run(rt.services, "latest")
    # An older start (its clock read at t0+1s) whose Lambda stalled: it arrives now.
    rt.services.clock = ManualClock(t0 + 1_000)
    older = start_run(rt.services, "latest", run_id="0OLDER")
    rt.services.clock = clock
    rt.pump()
    assert rt.store.get_run(newer.run_id).status is RunStatus.SUCCEEDED
    assert rt.store.get_run(older.run_id).status is RunStatus.DISCARDED


@pytest.mark.parametrize("fail_first", [True, False])
def test_bug7_fail_after_running_runs_every_step_released_by_the_same_decision(
    rt: LocalRuntime, fail_first: bool
) -> None:
    steps = [{"id": "b", "type": "fail"}, {"id": "c", "type": "noop"}]
    view = rt.run({"name": "order", "steps": steps if fail_first else steps[::-1]})
    assert view.run.status is RunStatus.FAILED
    assert {s.step: s.status for s in view.steps}["c"] is StepStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        ("deep_output", "nests deeper than"),
        ("nan_output", "NaN and Infinity are not JSON"),
        ("huge_error", "characters cut"),
    ],
)
def test_bug8_hostile_outputs_and_errors_fail_the_attempt_clearly(
    rt: LocalRuntime, fn: str, message: str
) -> None:
    view = rt.run(
        {"name": "hostile", "steps": [{"id": "a", "type": "lambda", "function": f"{HERE}:{fn}"}]}
    )
    step = view.steps[0]
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error is not None and message in step.error and len(step.error) < 4096
    assert "lease" not in step.error


# Bug 6 (the memory fake's permits and timeline disagreed with DynamoDB) is pinned by the
# contract suite: tests/contract/test_permits.py, which runs every adapter.


def test_a_sleep_whose_timer_was_lost_in_a_crash_resumes_on_redelivery(rt: LocalRuntime) -> None:
    """The worker died after claiming a sleep and before scheduling its timer: the
    redelivered message schedules it again (no sweeper needed)."""
    rt.push({"name": "nap", "steps": [{"id": "a", "type": "sleep", "seconds": 30}]})
    crash = crash_on(
        rt, lambda n, a, k: n == "transition_step" and k.get("to") is StepStatus.RUNNING
    )
    run = rt.start_run("nap")
    rt.pump()
    assert crash.fired
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_the_sweeper_reads_only_due_runs_bounded_per_pass(rt: LocalRuntime) -> None:
    """Issue #8 item 10: the sweeper works from a sparse index of due work, not by listing
    every step of every active run. A run no check time names is not read at all; due
    runs are read at most ``max_runs`` a pass, the rest the next pass; a run looked at
    comes back when something of it can next be due (here: its sleep's lease)."""
    from podium.core.engine.checks import FIRST_CHECK_MS, MAX_CHECK_MS
    from podium.service.sweep import sweep

    rt.push(
        {
            "name": "naps",
            "run_strategy": {"parallel": 100},
            "steps": [{"id": "z", "type": "sleep", "seconds": 7200}],
        }
    )
    runs = [rt.start_run("naps").run_id for _ in range(25)]  # not pumped: start lost
    listed: list[str] = []
    real_list = rt.store.list_steps
    rt.store.list_steps = lambda run_id: listed.append(run_id) or real_list(run_id)  # type: ignore[method-assign]
    assert sweep(rt.services, rt.store, max_runs=10).runs_checked == 0
    assert listed == []
    rt.clock.advance(FIRST_CHECK_MS)
    first = sweep(rt.services, rt.store, max_runs=10)
    second = sweep(rt.services, rt.store, max_runs=10)
    third = sweep(rt.services, rt.store, max_runs=10)
    assert (first.runs_checked, second.runs_checked, third.runs_checked) == (10, 10, 5)
    assert sorted(listed) == sorted(runs)  # each listed once
    assert sweep(rt.services, rt.store, max_runs=10).runs_checked == 0
    for run_id in runs:  # each was re-driven (its start): looked at again soon
        check = rt.store.get_run(run_id).check_at
        assert check is not None and check <= rt.clock.now_ms() + MAX_CHECK_MS
    rt.pump()
    assert {rt.store.get_step(r, "z").status for r in runs} == {StepStatus.SUCCEEDED}


def test_a_step_created_as_its_run_ended_is_ended_a_lease_later(rt: LocalRuntime) -> None:
    """Simulation run_timeout/1930: a worker that had read the run as RUNNING creates a
    step after the run's follow-ups ended the unfinished ones, and dies; no message is
    left for the run. The ended_check timer (a lease after the end) ends that step."""
    from podium.core.engine.records import StepRecord

    rt.push({"name": "late", "steps": [{"id": "a", "type": "fail"}]})
    run = rt.start_run("late")
    rt.pump(max_deliveries=2)  # the start and a's attempt: the run ends FAILED
    assert rt.store.get_run(run.run_id).status is RunStatus.FAILED
    # The straggler: written after run_ended ran (as the dying worker would).
    rt.store.create_step(StepRecord(run.run_id, "ghost", StepStatus.RUNNING, attempt=1))
    rt.pump()  # the ended_check timer fires a lease after the end
    ghost = rt.store.get_step(run.run_id, "ghost")
    assert ghost is not None and ghost.status is StepStatus.STOPPED


def test_late_messages_of_a_failed_run_do_not_each_list_the_run(rt: LocalRuntime) -> None:
    """A failing fan-out leaves many work messages in flight; each one that arrives after
    the run ended reads its own step, not every step of the run (that was quadratic)."""
    calls: Counter[str] = Counter()

    class Counting:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            attr = getattr(self._inner, name)
            if not callable(attr) or name in ("permits", "run_slots"):
                return attr

            def counted(*args: Any, **kwargs: Any) -> Any:
                calls[name] += 1
                return attr(*args, **kwargs)

            return counted

    steps: list[dict[str, Any]] = [
        {"id": "root", "type": "noop"},
        {"id": "boom", "type": "fail", "failure_mode": "fail_immediately"},
    ]
    steps += [{"id": f"p{i}", "type": "noop", "depends_on": ["root"]} for i in range(40)]
    rt.push({"name": "wide_fail", "steps": steps})
    rt.services.store = Counting(rt.store)  # type: ignore[assignment]
    run = rt.start_run("wide_fail")
    rt.pump()
    assert rt.store.get_run(run.run_id).status is RunStatus.FAILED
    assert calls["list_steps"] <= 4, calls
    assert calls["get_step"] >= 20, calls  # the late messages did arrive after the end


def test_an_in_process_chain_does_not_read_its_run_per_step() -> None:
    """Cost regression (bench W1 went from $1.38 to $1.51 per million steps): the pause
    check before an in-process continuation read the run item again for every step.
    A worker's view of its run's status may be up to a second old (continuations.py)."""
    from podium.adapters.clock import ManualClock

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        reads: list[str] = []
        real = rt.store.get_run
        rt.store.get_run = lambda run_id: reads.append(run_id) or real(run_id)  # type: ignore[method-assign]
        view = rt.run(
            {
                "name": "chain50",
                "steps": [
                    {"id": f"s{i}", "type": "noop", **({"depends_on": [f"s{i - 1}"]} if i else {})}
                    for i in range(50)
                ],
            }
        )
    assert view.run.status is RunStatus.SUCCEEDED
    assert len(reads) < 15, len(reads)


def test_last_only_stops_an_older_run_admitted_between_the_queue_read_and_its_drop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression (racing test of 50 last_only starts, under load): the newer start's
    supersede pass read the queue (the older run still in it) and the holders (none
    yet); the older start then admitted its run, so the drop found it gone and nothing
    stopped it: both ran, one after the other."""
    import podium.service.runs as runs_module
    from podium.service.lifecycle import supersede

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        ctx = rt.services
        rt.push(
            {
                "name": "latest",
                "run_strategy": "last_only",
                "steps": [{"id": "a", "type": "sleep", "seconds": 5}],
            }
        )
        monkeypatch.setattr(runs_module, "_admit_queued", lambda *a: None)  # both queue
        older = start_run(ctx, "latest").run_id
        rt.clock.advance(1)  # type: ignore[union-attr]
        newer = start_run(ctx, "latest").run_id
        monkeypatch.undo()
        slots = ctx.store.run_slots()
        real_state = slots.state

        def state_then_admit_older(workflow: str) -> Any:
            seen = real_state(workflow)
            (entry,) = [e for e in slots.queued(workflow, 10) if e.run_id == older]
            now = ctx.now()
            slots.admit(entry, limit=1, strict=False, now=now, check_at=now)  # the older start
            monkeypatch.setattr(slots, "state", real_state)
            return seen

        monkeypatch.setattr(slots, "state", state_then_admit_older)
        monkeypatch.setattr(ctx.store, "run_slots", lambda: slots)
        supersede(ctx, "latest")
        monkeypatch.undo()
        assert ctx.store.get_run(older).status is RunStatus.STOPPED
        rt.pump()
        assert ctx.store.get_run(newer).status is RunStatus.SUCCEEDED


def test_a_root_never_made_is_made_by_the_sweeper_once_the_run_is_stale(rt: LocalRuntime) -> None:
    """Simulation with operator actions, seed 5955 (fail_sibling): the start made root
    ``b`` and died before ``c``; its redelivery met the run paused and did nothing; the
    resume died after its transition, before it redoes the start. ``c`` was never made
    and the run stayed RUNNING for ever (the sweeper restarted roots only of a run with
    no step at all). Now a stale run with a root missing has its start redone."""
    from podium.core.engine.records import StepRecord

    rt.push({"name": "pair", "steps": [{"id": "b", "type": "noop"}, {"id": "c", "type": "noop"}]})
    run = start_run(rt.services, "pair", {})
    for msg in rt.event_queue.receive(10):  # its later deliveries met the run paused:
        rt.event_queue.delete(msg.receipt)  # consumed, nothing done
    # What the first delivery of the start left: b made (and sent), c not.
    rt.store.create_step(StepRecord(run.run_id, "b", StepStatus.READY, ready_at=0))
    rt.work_queue.send({"t": "exec", "run": run.run_id, "step": "b", "attempt": 1})
    rt.pump()  # b runs
    assert rt.store.get_step(run.run_id, "c") is None
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(rt.services.stale_ready_ms + 1)  # the run made no progress since
    sweep(rt.services, rt.store)
    rt.pump()
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    c = rt.store.get_step(run.run_id, "c")
    assert c is not None and c.status is StepStatus.SUCCEEDED


def test_a_completion_on_the_event_queue_sends_its_successor_to_the_work_queue(
    rt: LocalRuntime,
) -> None:
    """The event queue's function (advance: a minute's timeout, no grant to run steps)
    claimed a successor in-process, which on AWS it always gave back: two writes for
    nothing. Its successors now go to the work queue, claimed there once."""
    import json

    rt.push(
        {
            "name": "nap_then",
            "steps": [
                {"id": "nap", "type": "sleep", "seconds": 30},
                {"id": "after", "type": "noop", "depends_on": ["nap"]},
            ],
        }
    )
    run = rt.start_run("nap_then")
    rt.pump(wait=False)
    assert rt.store.get_step(run.run_id, "nap").status is StepStatus.RUNNING
    rt.clock.advance_to(rt.clock.now_ms() + 31_000)  # type: ignore[attr-defined]
    (timer,) = rt.event_queue.receive()
    sent = rt.work_queue.sent
    assert inbox.handle_event(rt.services, json.loads(timer.body)) is None
    assert rt.store.get_step(run.run_id, "after") is None  # created by its claim
    assert rt.work_queue.sent == sent + 1
    rt.pump()
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
