"""Concurrency keys and max_parallel_steps on the embedded runtime (virtual time)."""

from __future__ import annotations

from typing import Any

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep
from tests.integration.racing_support import max_overlap_of


def sleeper(name: str, key: str, limit: int, seconds: int = 60) -> dict[str, Any]:
    return {
        "name": name,
        "run_strategy": {"parallel": 10},
        "steps": [
            {"id": "load", "type": "sleep", "seconds": seconds,
             "concurrency": {"key": key, "limit": limit}},
            {"id": "after", "type": "noop", "depends_on": ["load"]},
        ],
    }  # fmt: skip


def test_a_key_is_shared_across_workflows_and_runs(runtime: LocalRuntime) -> None:
    runtime.push(sleeper("wf_a", "warehouse", 2))
    runtime.push(sleeper("wf_b", "warehouse", 2))
    runs = [runtime.start_run("wf_a" if i % 2 else "wf_b").run_id for i in range(6)]
    runtime.pump(max_deliveries=1)  # starts, then the first claims
    waiting = [
        s
        for r in runs
        for s in runtime.store.list_steps(r)
        if s.status is StepStatus.WAITING_FOR_PERMITS
    ]
    assert waiting and all(
        s.reason == "waiting for a permit of 'warehouse' (limit 2)" for s in waiting
    )
    runtime.pump()
    loads = [runtime.store.get_step(r, "load") for r in runs]
    assert all(runtime.store.get_run(r).status is RunStatus.SUCCEEDED for r in runs)
    assert max_overlap_of([(s.started_at, s.ended_at) for s in loads if s]) == 2
    state = runtime.store.permits().state("warehouse")
    assert (state.active, state.waiting, state.holders) == (0, 0, {})
    # Arrival order: the loads start in the order their runs started.
    starts = [s.started_at for s in sorted(loads, key=lambda s: s.ready_at or 0) if s]
    assert starts == sorted(starts)


def test_max_parallel_steps_limits_one_run(runtime: LocalRuntime) -> None:
    wf = {
        "name": "wide",
        "max_parallel_steps": 3,
        "steps": [
            {"id": "start", "type": "noop"},
            *({"id": f"p{i}", "type": "sleep", "seconds": 30, "depends_on": ["start"]}
              for i in range(10)),
            {"id": "end", "type": "noop", "depends_on": [f"p{i}" for i in range(10)]},
        ],
    }  # fmt: skip
    view = runtime.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    sleeps = [(s.started_at, s.ended_at) for s in view.steps if s.step.startswith("p")]
    assert max_overlap_of(sleeps) == 3


class Crash(BaseException):
    """Not an Exception: the 'Lambda' dies instead of failing the attempt."""


def crash_once(event: dict[str, Any]) -> str:
    if event["attempt"] == 1 and event["payload"]["crash"]:
        raise Crash("killed mid-step")
    return "done"


def test_a_holder_killed_mid_step_is_reclaimed_and_the_queue_moves_on(
    runtime: LocalRuntime,
) -> None:
    def wf(name: str, crash: bool) -> dict[str, Any]:
        return {
            "name": name,
            "steps": [
                {"id": "work", "type": "lambda",
                 "function": "tests.integration.test_concurrency_keys:crash_once",
                 "payload": {"crash": crash}, "retries": 1, "retry_delay_seconds": 1,
                 "concurrency": {"key": "db", "limit": 1}},
            ],
        }  # fmt: skip

    runtime.push(wf("victim", True))
    runtime.push(wf("next_in_line", False))
    victim = runtime.start_run("victim").run_id
    waiter = runtime.start_run("next_in_line").run_id
    runtime.pump(max_deliveries=6)  # the victim holds the permit and dies; no release
    assert runtime.store.get_step(victim, "work").status is StepStatus.RUNNING
    assert runtime.store.get_step(waiter, "work").status is StepStatus.WAITING_FOR_PERMITS
    assert set(runtime.store.permits().state("db").holders) == {f"{victim}/work"}
    for _ in range(3):  # the lease expires; the sweeper reclaims; the queue moves on
        runtime.clock.advance(runtime.services.lease_ms + 1)
        sweep(runtime.services, runtime.store)
        runtime.pump()
    assert runtime.store.get_run(waiter).status is RunStatus.SUCCEEDED
    assert runtime.store.get_run(victim).status is RunStatus.SUCCEEDED  # its retry ran
    assert runtime.store.get_step(victim, "work").attempt == 2
    reclaims = [e for e in runtime.store.list_events(victim) if e.kind == "reclaim"]
    assert [(e.step, e.attempt) for e in reclaims] == [("work", 1)]
    assert runtime.store.permits().state("db").holders == {}


def test_a_run_stopped_while_its_woken_step_has_not_claimed_yet_frees_the_queue(
    runtime: LocalRuntime,
) -> None:
    # A holder's release wakes the first waiter: WAITING_FOR_PERMITS -> READY, still
    # first in the key's queue until its claim takes it out. If its run is stopped
    # before that claim (here the wake's message is lost), the stop must take it out of
    # the queue: left there, every step behind it waited forever (found by the
    # simulation's operator stops: key_limit, seed 4).
    from podium.service.lifecycle import stop_run

    runtime.push(sleeper("wf", "wh", 1))
    a, b, c = (runtime.start_run("wf").run_id for _ in range(3))
    store, queue = runtime.store, runtime.services.work_queue
    send = queue.send
    lost: list[str] = []

    def lose_the_wake(message: Any, delay_seconds: int = 0) -> None:
        step = store.get_step(b, "load") if message.get("run") == b else None
        woken = step is not None and step.waiting_key is not None
        if woken and step is not None and step.status is StepStatus.READY and not lost:
            lost.append(b)
            return
        send(message, delay_seconds)

    queue.send = lose_the_wake  # type: ignore[method-assign]
    runtime.pump(wait=False)  # a holds the permit; b and c wait
    assert [store.get_step(r, "load").status for r in (b, c)] == [  # type: ignore[union-attr]
        StepStatus.WAITING_FOR_PERMITS
    ] * 2
    runtime.pump()  # a's sleep ends: b is woken, its message lost
    assert lost == [b] and store.get_run(a).status is RunStatus.SUCCEEDED
    assert store.permits().head("wh") == (b, "load")
    stop_run(runtime.services, b, "stopped by the test")
    runtime.pump()
    assert store.get_run(c).status is RunStatus.SUCCEEDED
    state = store.permits().state("wh")
    assert (state.active, state.waiting, state.holders) == (0, 0, {})
    assert store.permits().head("wh") is None
