"""Run strategies and slots under real races: threads against one ThreadedMotoServer.

Invariants are read from the runs' recorded state and times, not from Podium's own
counters."""

from __future__ import annotations

import itertools
from typing import Any

from podium.core.engine.status import RunStatus, StepStatus
from podium.service.runs import start_run
from podium.service.workflows import push_workflow
from tests.integration.racing_support import (
    Monitor,
    dumps,
    pump_concurrently,
    race,
    racing_services,
)


def all_ended(ctx: Any, run_ids: list[str]) -> bool:
    return all(ctx.store.get_run(r).status.terminal for r in run_ids)


def wf(name: str, strategy: Any) -> dict[str, Any]:
    return {
        "name": name,
        "run_strategy": strategy,
        "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
    }


def test_50_concurrent_starts_of_parallel_5() -> None:
    with racing_services() as (ctx, _):
        push_workflow(ctx, wf("par5", {"parallel": 5}))
        slots = ctx.store.run_slots()
        with Monitor(lambda: len(slots.state("par5").holders)) as active:
            started = race(50, lambda i: start_run(ctx, "par5").run_id)
            assert sum(ctx.store.get_run(r).status is RunStatus.RUNNING for r in started) <= 5
            pump_concurrently(ctx, lambda: all_ended(ctx, started))
        runs = [ctx.store.get_run(r) for r in started]
    assert all(r.status is RunStatus.SUCCEEDED for r in runs), dumps(runs)
    assert active.samples > 10 and active.peak == 5  # the limit was reached, never passed
    # Arrival order is queue order (creation time, then id); starts follow it.
    by_arrival = sorted(runs, key=lambda r: (r.created_at, r.run_id))
    starts = [r.started_at or 0 for r in by_arrival]
    assert starts == sorted(starts), dumps(by_arrival)


def test_50_concurrent_starts_of_first_only() -> None:
    with racing_services() as (ctx, _):
        push_workflow(ctx, wf("first", "first_only"))
        runs = race(50, lambda i: start_run(ctx, "first"))
        statuses = [r.status for r in runs]
        assert statuses.count(RunStatus.RUNNING) == 1
        assert statuses.count(RunStatus.DISCARDED) == 49
        stored = [ctx.store.get_run(r.run_id) for r in runs]
    assert all(
        r.reason and "is active (run_strategy first_only)" in r.reason
        for r in stored
        if r.status is RunStatus.DISCARDED
    )


def test_sequential_burst_runs_one_at_a_time_in_order() -> None:
    with racing_services() as (ctx, _):
        push_workflow(ctx, wf("seq", "sequential"))
        slots = ctx.store.run_slots()
        with Monitor(lambda: len(slots.state("seq").holders)) as active:
            started = race(20, lambda i: start_run(ctx, "seq").run_id)
            pump_concurrently(ctx, lambda: all_ended(ctx, started))
        runs = [ctx.store.get_run(r) for r in started]
    assert all(r.status is RunStatus.SUCCEEDED for r in runs), dumps(runs)
    assert active.peak == 1  # strictly one at a time
    # FIFO: a run is admitted only after the one before it (its clock is read later).
    by_arrival = sorted(runs, key=lambda r: (r.created_at, r.run_id))
    for before, after in itertools.pairwise(by_arrival):
        assert (after.started_at or 0) >= (before.started_at or 0), dumps(by_arrival)


def test_duplicate_start_and_finish_messages_do_not_leak_slots() -> None:
    with racing_services() as (ctx, _):
        push_workflow(ctx, wf("dupes", {"parallel": 2}))
        started = race(10, lambda i: start_run(ctx, "dupes", run_id=f"token-{i % 5}").run_id)
        assert sorted(set(started)) == [f"token-{i}" for i in range(5)]  # 5 runs, not 10
        # Every message is delivered twice: start, exec and timer duplicates.
        original_send, original_many = ctx.work_queue.send, ctx.work_queue.send_many

        def twice(message: Any, delay_seconds: int = 0) -> None:
            original_send(message, delay_seconds)
            original_send(message, delay_seconds)

        ctx.work_queue.send = twice  # type: ignore[method-assign]
        ctx.work_queue.send_many = lambda ms: original_many([*ms, *ms])  # type: ignore[method-assign]
        tokens = [f"token-{i}" for i in range(5)]
        pump_concurrently(ctx, lambda: all_ended(ctx, tokens))
        runs = [ctx.store.get_run(t) for t in tokens]
        state = ctx.store.run_slots().state("dupes")
    assert all(r.status is RunStatus.SUCCEEDED for r in runs), dumps(runs)
    assert (state.active, state.holders) == (0, {})  # every slot came back, once


def slow_step(event: dict[str, Any]) -> str:
    import time

    time.sleep(0.05)  # long enough for holders to overlap
    return event["step"]


def test_a_key_of_limit_3_shared_by_4_workflows_and_20_runs() -> None:
    with racing_services() as (ctx, _):
        for w in range(4):
            push_workflow(
                ctx,
                {
                    "name": f"keyed{w}",
                    "run_strategy": {"parallel": 10},
                    "steps": [
                        {"id": "work", "type": "lambda",
                         "function": "tests.integration.test_racing:slow_step",
                         "concurrency": {"key": "warehouse", "limit": 3}},
                    ],
                },
            )  # fmt: skip
        permits = ctx.store.permits()
        with Monitor(lambda: len(permits.state("warehouse").holders)) as holders:
            started = race(20, lambda i: start_run(ctx, f"keyed{i % 4}").run_id)
            pump_concurrently(ctx, lambda: all_ended(ctx, started), workers=6)
        runs = [ctx.store.get_run(r) for r in started]
        steps = [ctx.store.get_step(r, "work") for r in started]
        state = permits.state("warehouse")
    assert all(r.status is RunStatus.SUCCEEDED for r in runs), dumps(runs)
    assert all(s is not None and s.status is StepStatus.SUCCEEDED for s in steps)
    assert holders.samples > 10 and 1 <= holders.peak <= 3
    assert (state.active, state.waiting, state.holders) == (0, 0, {})


def test_50_concurrent_starts_of_last_only_leave_exactly_the_newest() -> None:
    """Regression (engine-core issue, bug 5): an older start's supersede pass stopped the
    newer run; with 50 racing starts, 49 DISCARDED + 1 STOPPED and nothing ran."""
    latest = {
        "name": "latest",
        "run_strategy": "last_only",
        "steps": [{"id": "a", "type": "sleep", "seconds": 5}],
    }
    with racing_services() as (ctx, _):
        push_workflow(ctx, latest)
        slots = ctx.store.run_slots()
        with Monitor(lambda: len(slots.state("latest").holders)) as active:
            started = race(50, lambda i: start_run(ctx, "latest").run_id)
            pump_concurrently(ctx, lambda: all_ended(ctx, started))
        runs = [ctx.store.get_run(r) for r in started]
        holders = slots.state("latest").holders
    newest = max(runs, key=lambda r: (r.created_at, r.run_id))
    assert newest.status is RunStatus.SUCCEEDED, dumps(runs)
    others = [r for r in runs if r.run_id != newest.run_id]
    assert all(r.status in (RunStatus.DISCARDED, RunStatus.STOPPED) for r in others), dumps(runs)
    assert active.peak == 1 and holders == {}


def test_50_concurrent_starts_of_strict_sequential_run_one_at_a_time() -> None:
    with racing_services() as (ctx, _):
        push_workflow(ctx, wf("strict", "strict_sequential"))
        slots = ctx.store.run_slots()
        with Monitor(lambda: len(slots.state("strict").holders)) as active:
            started = race(50, lambda i: start_run(ctx, "strict").run_id)
            pump_concurrently(ctx, lambda: all_ended(ctx, started))
        runs = [ctx.store.get_run(r) for r in started]
    assert all(r.status is RunStatus.SUCCEEDED for r in runs), dumps(runs)
    assert active.peak == 1
    by_arrival = sorted(runs, key=lambda r: (r.created_at, r.run_id))
    for before, after in itertools.pairwise(by_arrival):
        assert (after.started_at or 0) >= (before.ended_at or 0), dumps(by_arrival)
