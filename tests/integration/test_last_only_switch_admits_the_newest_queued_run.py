"""last_only made active while runs waited QUEUED (started under sequential).

docs/run-strategies.md: the strategy that applies is the active version's, and under
``last_only`` the newest run replaces any queued one (DISCARDED) and the others. The end
of the running run admitted the oldest queued run (admit_next went in arrival order
whatever the strategy), and the sweeper's replacement pass then stopped it mid-run.
"""

from __future__ import annotations

from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep


def _wf(strategy: str) -> dict[str, object]:
    return {
        "name": "switched",
        "run_strategy": strategy,
        "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
    }


def test_the_oldest_queued_run_was_not_started_only_to_be_stopped_by_the_next_sweep(
    home_rt: LocalRuntime,
) -> None:
    """After a switch from sequential to last_only with runs B and C queued, the end of
    the running run admitted B (FIFO), and the next sweep then STOPPED B mid-run
    ("replaced by newer run C") and started C: B's work was started and cut short.
    Under last_only the newer run C is the one admitted, B DISCARDED unstarted."""
    rt = home_rt
    rt.push(_wf("sequential"))
    a = rt.start_run("switched").run_id
    b = rt.start_run("switched").run_id
    c = rt.start_run("switched").run_id
    rt.pump(advance_time=False)
    rt.push(_wf("last_only"))  # activated at once
    start = rt.clock.now_ms()
    rt.clock.advance_to(start + 601_000)  # the running run's sleep ends
    rt.pump(advance_time=False)
    for minute in range(1, 4):  # a few sweeps, as the deployed stack's schedule runs them
        rt.clock.advance_to(start + 601_000 + minute * 60_000)
        sweep(rt.services, rt.store)
        rt.pump(advance_time=False)
    older = rt.store.get_run(b)
    assert rt.store.get_run(a).status is RunStatus.SUCCEEDED
    assert rt.store.get_run(c).status is RunStatus.RUNNING
    assert older.started_at is None, (
        f"run {b} was started under last_only although newer run {c} was queued, then"
        f" {older.status.value}: {older.reason}"
    )
    assert older.status is RunStatus.DISCARDED
    assert older.reason == f"replaced by newer run {c} (run_strategy last_only)"


def test_a_run_ending_under_last_only_admitted_the_newest_of_those_queued(
    home_rt: LocalRuntime,
) -> None:
    """The end of the running run (its release) admitted the oldest of three queued
    runs; it now admits the newest and discards the two older ones, before any sweep."""
    rt = home_rt
    rt.push(_wf("sequential"))
    a = rt.start_run("switched").run_id
    queued = [rt.start_run("switched").run_id for _ in range(3)]
    rt.pump(advance_time=False)
    rt.push(_wf("last_only"))
    rt.clock.advance(601_000)
    rt.pump(advance_time=False)  # a's sleep ends: its release admits the next run
    assert rt.store.get_run(a).status is RunStatus.SUCCEEDED
    statuses = [rt.store.get_run(r).status for r in queued]
    assert statuses == [RunStatus.DISCARDED, RunStatus.DISCARDED, RunStatus.RUNNING]
