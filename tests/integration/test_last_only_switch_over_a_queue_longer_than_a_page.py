"""A switch to ``last_only`` over a queue longer than one read of it (1,000 entries).

docs/workflow-language.md (backfill --cancel): "a backfill made in parts queues more than
1,000 runs"; a paused workflow (``{parallel: 0}``) gathers as many. The last_only pass
(``admission.discard_replaced``) read the first 1,000 queued runs only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service import admission
from podium.service.sweep import sweep

QUEUED = 1_003  # just over the 1,000 entries one read of the queue takes


def _wf(strategy: object) -> dict[str, object]:
    return {
        "name": "longq",
        "run_strategy": strategy,
        "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
    }


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    kwargs: dict[str, object] = {"store": request.param, "clock": ManualClock()}
    if request.param == "sqlite":
        kwargs |= {"home": ":memory:", "capture_output": False}
    with LocalRuntime(**kwargs) as runtime:  # type: ignore[arg-type]
        yield runtime


def _queue_paused(rt: LocalRuntime, n: int) -> list[str]:
    rt.push(_wf({"parallel": 0}))  # paused: every start waits QUEUED
    runs = []
    for _ in range(n):
        runs.append(rt.start_run("longq").run_id)
        rt.clock.advance(1)  # one per millisecond: arrival order is creation order
    return runs


def _left(rt: LocalRuntime, runs: list[str]) -> dict[int, str]:
    statuses = (rt.store.get_run(r).status for r in runs)
    return {i: s.value for i, s in enumerate(statuses) if s is not RunStatus.DISCARDED}


def test_a_switch_to_last_only_starts_the_newest_of_more_than_1000_queued_runs(
    rt: LocalRuntime,
) -> None:
    """1,003 runs waited QUEUED on a paused workflow; a version with ``last_only`` was
    pushed. The 1,000th run started (RUNNING) while the three newest still waited
    QUEUED, to run one after another later: ``discard_replaced`` picked the newest
    among the first 1,000 queued only. Now the newest (the 1,003rd) starts at once; the
    older ones are DISCARDED, at most ``DISCARDS_PER_PASS`` a pass (so a pass stays
    within a Lambda's time), the rest by the sweeper's next passes."""
    runs = _queue_paused(rt, QUEUED)
    rt.push(_wf("last_only"))  # activated: on_activated -> admit_next (last_only pass)
    newest = QUEUED - 1
    assert rt.store.get_run(runs[newest]).status is RunStatus.RUNNING
    left = _left(rt, runs)
    assert len(left) == QUEUED - admission.DISCARDS_PER_PASS
    assert all(s == RunStatus.QUEUED.value for i, s in left.items() if i != newest), left
    for _ in range(10):  # the sweeper goes on with the pass (the winner's check is due)
        if len(left) == 1:
            break
        rt.clock.advance(10 * 60_000)
        sweep(rt.services, rt.store)
        left = _left(rt, runs)
    assert left == {newest: RunStatus.RUNNING.value}, left
