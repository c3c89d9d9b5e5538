"""The invariants added after mutation testing the simulation (sim/invariants.py):
``late_fault_free`` (with no fault at all, a retry, a sleep's end or a queued run's
admission came late: a timer or message the engine forgot, which only the sweeper made
up for, minutes later), ``work_after_end`` (a user function invoked by a process that
began after its run had ended) and ``signal_mismatch`` (a step released by a signal its
``wait_for`` does not match). Each engine bug below survived every other invariant;
each test breaks the engine on purpose and shows the new invariant catches it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from podium.core.engine.status import RunStatus
from podium.sim.harness import StoreFactory, World, factory_for
from podium.sim.invariants import Verdict, check_world
from podium.sim.shapes import Expected, RunSpec, Shape, lam
from podium.sim.simulate import Simulator


def _run(shape: str, seed: int, *, actions: bool = False) -> list[str]:
    factory = factory_for("memory")
    with factory.session():
        return list(Simulator(factory, (shape,), actions=actions).run_seed(seed).verdict.details)


def _caught(
    shape: str, flags: Callable[[str], bool], seeds: int = 60, *, actions: bool = False
) -> int:
    """The first seed of ``shape`` with a violation that ``flags`` picks, else fails."""
    for seed in range(seeds):
        if any(flags(d) for d in _run(shape, seed, actions=actions)):
            return seed
    pytest.fail(f"no seed of {shape} 0-{seeds - 1} was caught")


def _fault_free(shape: Shape) -> list[str]:
    """The fault-free world of a hand-made shape, judged on its own."""
    world = World(0, shape, StoreFactory().make(), faulty=False)
    world.run()
    verdict = Verdict()
    check_world(world, verdict, "fault-free")
    return verdict.details


def _sequential_sleepers() -> Shape:
    """Two runs of a one-at-a-time workflow that sleeps a minute, the second started a
    second after the first: it waits QUEUED until the first ends (none of the bulk
    shapes has a run queued in its fault-free world)."""
    wf = {
        "name": "sim_seq_sleepers",
        "run_strategy": "sequential",
        "steps": [lam("a"), {"id": "nap", "type": "sleep", "seconds": 60, "depends_on": ["a"]}],
    }
    want = Expected("SUCCEEDED", {"a": "SUCCEEDED", "nap": "SUCCEEDED"})
    runs = (RunSpec("sim_seq_sleepers"), RunSpec("sim_seq_sleepers", at_ms=1_000))
    return Shape("sequential_sleepers", (wf,), runs, (want, want))


def test_the_shapes_the_new_invariants_read_violate_nothing() -> None:
    for seed in range(20):
        for shape in ("retry", "long_sleep", "signal_wait", "foreach_fail_fast", "max_parallel"):
            assert not _run(shape, seed, actions=True), (shape, seed)
    assert not _fault_free(_sequential_sleepers())


def test_a_lost_retry_timer_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next attempt's timer never set: the sweeper redrives the step once it is
    stale (5 minutes), so a 5-second retry waits minutes; nothing else noticed."""
    from podium.service import attempts

    real = attempts.after_retry_wait

    class NoTimer:
        def __init__(self, ctx: Any) -> None:
            self._ctx = ctx

        def __getattr__(self, name: str) -> Any:
            return getattr(self._ctx, name)

        def at(self, *_a: Any, **_k: Any) -> None:
            return None

    def forgets_the_timer(ctx: Any, *args: Any, **kwargs: Any) -> None:
        real(NoTimer(ctx), *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(attempts, "after_retry_wait", forgets_the_timer)
    details = _run("retry", 0)
    assert any(d.startswith("late_fault_free: fault-free:") for d in details), details


def test_a_lost_sleep_timer_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sleep that sets no timer ends only when the sweeper reclaims its lease."""
    from podium.service.runtimes.base import Waiting
    from podium.service.runtimes.simple import SleepRuntime

    monkeypatch.setattr(SleepRuntime, "start", lambda self, ctx, attempt: Waiting())
    details = _run("long_sleep", 0)
    assert any(d.startswith("late_fault_free") and "slept" in d for d in details), details


def test_a_lost_admission_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ended run gives its slot back but admits nobody: the queued run waits for the
    sweeper's slot pass (a minute on AWS). Caught where a fault-free run is queued."""
    from podium.service import admission

    monkeypatch.setattr(admission, "admit_next", lambda ctx, workflow: [])
    details = _fault_free(_sequential_sleepers())
    assert any(d.startswith("late_fault_free") and "queued" in d for d in details), details


def test_work_started_in_an_ended_run_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """execute without its ended-run check: a work message that finds its run ended
    claims and invokes all the same (before, only a rare open step in a stopped loop
    iteration showed it)."""
    from podium.service import execute, gone_runs

    real = gone_runs.still_there

    def as_if_running(ctx: Any, run_id: str, what: str) -> Any:
        run = real(ctx, run_id, what)
        if run is not None and run.status.terminal:
            return replace(run, status=RunStatus.RUNNING)
        return run

    monkeypatch.setattr(execute, "still_there", as_if_running)
    # 200 seeds: since each simulated process keeps its own in-memory state (its recent
    # run reads among it), the first seed caught is 176 (it was within 60).
    _caught("max_parallel", lambda d: d.startswith("work_after_end"), 200, actions=True)


def test_a_step_released_by_a_signal_it_does_not_match_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wait that ignores its ``match``: the first run is released by the signal of
    another day. It ends SUCCEEDED all the same, so no status differs."""
    from podium.service import signal_waits

    real = signal_waits._newest_match

    def any_params(ctx: Any, name: str, conditions: Any, **kwargs: Any) -> Any:
        return real(ctx, name, (), **kwargs)

    monkeypatch.setattr(signal_waits, "_newest_match", any_params)
    details = _run("signal_wait", 0)
    assert any(d.startswith("signal_mismatch") for d in details), details


def test_a_successor_started_in_a_failing_run_is_caught_without_faults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``fail_beside_sleep``: the step a sleep releases a minute after its sibling branch
    failed must be SKIPPED (fail_after_running). Broken so that a failing run no longer
    skips what it decides (core/engine/decide.start_status), the fault-free world shows
    it (``Shape.fault_free_steps``); under faults it is loose (a crash before the run is
    flagged lets it run legitimately)."""
    from podium.core.engine import decide
    from podium.sim.simulate import run_case

    real = decide.start_status

    def never_failing(rule: Any, edges: int, taken: int, failed: int, run_failing: bool) -> Any:
        return real(rule, edges, taken, failed, False)

    monkeypatch.setattr(decide, "start_status", never_failing)
    result = run_case("fail_beside_sleep", 0)
    assert "unexpected_result" in result.verdict.violations, result.verdict.details


def test_work_after_end_judges_the_end_by_its_write() -> None:
    """fanout, seed 40, with operators' actions: a stop took its time (``ended_at``) at
    t+3,603,633 ms and wrote the run's end at t+3,604,532; a work message read the run
    RUNNING in between and invoked a step. Judged by ``ended_at``, that was work after
    the end (a false alarm); judged by the end's write (World.ended_writes), it was not."""
    from podium.sim.harness import factory_for
    from podium.sim.simulate import Simulator

    factory = factory_for("memory")
    with factory.session():
        result = Simulator(factory, ("fanout",), 2.0, actions=True).run_seed(40)
    assert "work_after_end" not in result.verdict.violations, result.verdict.details


def _seed(shape: str, seed: int) -> Any:
    """One seed of one shape, with operators' actions, at the CI's intensity."""
    from podium.sim.harness import factory_for
    from podium.sim.simulate import Simulator

    factory = factory_for("memory")
    with factory.session():
        return Simulator(factory, (shape,), 2.0, actions=True).run_seed(seed)


def test_a_restart_that_takes_over_a_failed_step_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``taken_over_unsucceeded``: broken so that a restart reuses every step, failed
    ones too (service/restart.reused_steps), the restarted run passes a failed step off
    as done; no other invariant saw it (a mutation run)."""
    from podium.service import restart

    monkeypatch.setattr(
        restart, "reused_steps", lambda graph, ok, since, **_: frozenset(graph.predecessors)
    )
    result = _seed("recover", 1)
    assert "taken_over_unsucceeded" in result.verdict.violations, result.verdict.details


def test_a_step_deadline_timer_never_armed_is_caught_without_faults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``late_fault_free``: broken so that a step's deadline timer is never armed
    (service/execute.arm_deadline), a step with ``timeout: 60`` ends TIMED_OUT only when
    the sweeper reclaims it, minutes late, with the same status."""
    from podium.service import execute

    monkeypatch.setattr(execute, "arm_deadline", lambda ctx, attempt: None)
    result = _seed("step_timeout", 0)
    assert "late_fault_free" in result.verdict.violations, result.verdict.details
