"""Run strategies on the embedded runtime: who waits, who is discarded, who is stopped."""

from __future__ import annotations

import itertools
from typing import Any

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.admission import unblock
from podium.service.runs import describe_run


def workflow(name: str, strategy: Any, fail: bool = False) -> dict[str, Any]:
    step = (
        {"id": "work", "type": "fail"} if fail else {"id": "work", "type": "sleep", "seconds": 60}
    )
    return {"name": name, "run_strategy": strategy, "steps": [step]}


def status(rt: LocalRuntime, run_id: str) -> RunStatus:
    return rt.store.get_run(run_id).status


def test_sequential_queues_in_arrival_order(runtime: LocalRuntime) -> None:
    runtime.push(workflow("seq", "sequential"))
    runs = [runtime.start_run("seq").run_id for _ in range(3)]
    assert [status(runtime, r) for r in runs] == [
        RunStatus.RUNNING,
        RunStatus.QUEUED,
        RunStatus.QUEUED,
    ]
    view = describe_run(runtime.services, runs[2])
    assert view.waiting == f"queued at position 2 of 2; behind active run(s) {runs[0]}"
    runtime.pump()
    finished = [runtime.store.get_run(r) for r in runs]
    assert all(r.status is RunStatus.SUCCEEDED for r in finished)
    for before, after in itertools.pairwise(finished):
        assert after.started_at is not None and before.ended_at is not None
        assert after.started_at >= before.ended_at  # strictly one at a time, FIFO


def test_strict_sequential_blocks_after_a_failure_until_unblocked(runtime: LocalRuntime) -> None:
    runtime.push(workflow("strict", "strict_sequential", fail=True))
    failed = runtime.start_run("strict").run_id
    waiting = runtime.start_run("strict").run_id
    runtime.pump()
    assert status(runtime, failed) is RunStatus.FAILED
    assert status(runtime, waiting) is RunStatus.QUEUED
    view = describe_run(runtime.services, waiting)
    assert view.waiting is not None and f"blocked by failed run {failed}" in view.waiting
    assert "podium unblock strict" in view.waiting
    assert unblock(runtime.services, "strict") == [waiting]
    runtime.pump()
    assert status(runtime, waiting) is RunStatus.FAILED  # it ran (and failed) in turn


def test_first_only_discards_with_a_reason(runtime: LocalRuntime) -> None:
    runtime.push(workflow("first", "first_only"))
    first = runtime.start_run("first")
    second = runtime.start_run("first")
    assert first.status is RunStatus.RUNNING
    assert second.status is RunStatus.DISCARDED
    assert second.reason == f"discarded: run {first.run_id} is active (run_strategy first_only)"
    runtime.pump()
    assert status(runtime, first.run_id) is RunStatus.SUCCEEDED
    assert runtime.start_run("first").status is RunStatus.RUNNING  # free again


def test_last_only_stops_the_active_run_and_replaces_queued_ones(runtime: LocalRuntime) -> None:
    runtime.push(workflow("last", "last_only"))
    old = runtime.start_run("last").run_id
    runtime.pump(max_deliveries=2)  # the old run is running its sleep
    middle = runtime.start_run("last").run_id
    newest = runtime.start_run("last").run_id
    stopped = runtime.store.get_run(old)
    assert stopped.status is RunStatus.STOPPED
    assert stopped.reason is not None and "replaced by newer run" in stopped.reason
    replaced = runtime.store.get_run(middle)
    assert replaced.status in (RunStatus.DISCARDED, RunStatus.STOPPED)
    runtime.pump()
    assert status(runtime, newest) is RunStatus.SUCCEEDED


def test_parallel_limit_and_pause(runtime: LocalRuntime) -> None:
    runtime.push(workflow("par", {"parallel": 2}))
    runs = [runtime.start_run("par").run_id for _ in range(5)]
    assert [status(runtime, r) for r in runs].count(RunStatus.RUNNING) == 2
    runtime.pump()
    assert all(status(runtime, r) is RunStatus.SUCCEEDED for r in runs)

    runtime.push(workflow("paused", {"parallel": 0}))
    held = runtime.start_run("paused").run_id
    runtime.pump()
    assert status(runtime, held) is RunStatus.QUEUED
    assert "paused (parallel: 0)" in (describe_run(runtime.services, held).waiting or "")
    runtime.push(workflow("paused", {"parallel": 1}))  # a new active version raises it
    assert status(runtime, held) is RunStatus.RUNNING  # admitted by the push itself
    runtime.pump()
    assert status(runtime, held) is RunStatus.SUCCEEDED


def test_a_lost_slot_release_is_reclaimed_by_the_sweeper(runtime: LocalRuntime) -> None:
    from podium.service.sweep import sweep

    runtime.push(workflow("lost", "sequential"))
    first = runtime.start_run("lost").run_id
    second = runtime.start_run("lost").run_id
    slots = runtime.store.run_slots()
    original = slots.release
    # The release after the first run ends is lost (a crash right before it).
    runtime.store.run_slots = lambda: _NoRelease(slots)  # type: ignore[method-assign]
    runtime.pump()
    assert status(runtime, first) is RunStatus.SUCCEEDED
    assert status(runtime, second) is RunStatus.QUEUED  # the queue is stuck ...
    runtime.store.run_slots = lambda: slots  # type: ignore[method-assign]
    assert original  # (the real release is back)
    from podium.core.engine.checks import FIRST_CHECK_MS

    runtime.clock.advance(FIRST_CHECK_MS)  # the ended run's first check comes
    report = sweep(runtime.services, runtime.store)
    assert f"lost slot of {first}" in report.reclaimed  # ... until the sweeper
    runtime.pump()
    assert status(runtime, second) is RunStatus.SUCCEEDED


class _NoRelease:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def release(self, workflow: str, run_id: str, *, block: bool) -> bool:
        return False


def test_a_slot_whose_run_is_gone_is_given_back_by_the_sweeper() -> None:
    # The run holding a sequential workflow's slot disappears (deleted by hand): its
    # slot would stay held and the run queued behind it wait forever.
    from podium.adapters.clock import ManualClock
    from podium.service.sweep import sweep

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(workflow("ghost", "sequential"))
        gone = rt.start_run("ghost").run_id
        waiting = rt.start_run("ghost").run_id
        assert status(rt, waiting) is RunStatus.QUEUED
        rt.store._runs.pop(gone)  # type: ignore[attr-defined]
        rt.store._steps.pop(gone, None)  # type: ignore[attr-defined]
        rt.clock.advance(rt.services.stale_ready_ms + 1)
        report = sweep(rt.services, rt.store)
        assert f"ghost slot of {gone} (run gone)" in report.reclaimed
        assert f"ghost admitted {waiting}" in report.redriven
        rt.pump()
        assert status(rt, waiting) is RunStatus.SUCCEEDED
