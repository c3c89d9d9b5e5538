"""``ran_while_paused`` and ``permit_held_after_end`` (sim/invariants.py), added after a
mutation run found that an engine which starts steps in a paused run, or keeps a
step's concurrency-key permit after the step ended, passed every other invariant: the
outcomes equal the fault-free run's, and the sweeper frees a kept permit after its
16-minute lease, so nothing is left held at the end. The harness sees pauses, resumes,
claims and permits at the store writes themselves (World.observe_write). Each test
breaks the engine on purpose and shows the new invariant catches it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from podium.core.engine.status import RunStatus
from podium.sim.actions import ActingWorld
from podium.sim.harness import factory_for
from podium.sim.shapes import SHAPES
from podium.sim.simulate import Simulator


def _run(shape: str, seed: int, *, actions: bool = False) -> list[str]:
    factory = factory_for("memory")
    with factory.session():
        return list(Simulator(factory, (shape,), actions=actions).run_seed(seed).verdict.details)


def _caught(
    shape: str, flags: Callable[[str], bool], seeds: int = 40, *, actions: bool = False
) -> int:
    """The first seed of ``shape`` with a violation that ``flags`` picks, else fails."""
    for seed in range(seeds):
        if any(flags(d) for d in _run(shape, seed, actions=actions)):
            return seed
    pytest.fail(f"no seed of {shape} 0-{seeds - 1} was caught")


def _is(invariant: str) -> Callable[[str], bool]:
    return lambda detail: detail.startswith(f"{invariant}:")


def _without_release_in(function: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``attempts.release_all`` skipped where ``function`` (of service/attempts.py) calls
    it, as if that line were removed; in finish_attempt only after a failure (its call
    after a success stays)."""
    from podium.service import attempts
    from podium.service.permits import release_all as real

    def release_all(ctx: Any, run: Any, step: str) -> None:
        caller = sys._getframe(1)
        if caller.f_code.co_name == function:
            plan = caller.f_locals.get("plan")
            if function != "finish_attempt" or (plan is not None and plan.error is not None):
                return
        real(ctx, run, step)

    monkeypatch.setattr(attempts, "release_all", release_all)


def test_the_shapes_the_new_invariants_read_violate_nothing() -> None:
    shapes = ("fanout", "key_limit", "callback_any", "foreach_failures", "job_give_back")
    for seed in range(8):
        for shape in shapes:
            assert not _run(shape, seed, actions=True), (shape, seed)


def test_the_harness_sees_pauses_and_claims_at_the_writes() -> None:
    """Not vacuous: an acting world records its runs' pauses (each closed by the write
    that resumed it, at the latest in the settling) and the claims of its steps."""
    factory = factory_for("memory")
    with factory.session():
        world = ActingWorld(2, SHAPES["fanout"], factory.make(), faulty=True)
        world.run()
    spans = [s for each in world.pause_spans.values() for s in each]
    assert spans
    assert all(s.end_seq is not None and s.seq < s.end_seq for s in spans)
    assert all(s.by is not None and s.by.label.startswith("api<pause") for s in spans)
    started = {(c.run_id, c.step) for c in world.claims if not c.given_back}
    attempted = {
        (run_id, s.step)
        for run_id in world.run_ids.values()
        for s in world.inner_store.list_steps(run_id)
        if s.attempt > 0
    }
    assert attempted and attempted <= started


def test_a_step_started_in_a_paused_run_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """execute without its paused-run hold (the ``if run.status is RunStatus.PAUSED and
    hold(...)`` line removed): a work message that finds its run paused claims and
    starts the step. Every outcome still equals the fault-free run's."""
    from podium.service import execute

    monkeypatch.setattr(execute, "hold", lambda *_a, **_k: False)
    _caught("fanout", _is("ran_while_paused"), actions=True)


def test_an_iteration_started_under_a_paused_parent_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loop that launches its iterations RUNNING while its run is paused (neither
    created paused nor paused after the launch: service/missed_pause.py): they start,
    never paused themselves. Judged by their ancestor's pause."""
    from podium.service import loops

    real = loops._child_of

    def never_paused(*args: Any, **fields: Any) -> Any:
        if fields.get("status") is RunStatus.PAUSED:
            fields["status"] = RunStatus.RUNNING
        return real(*args, **fields)

    monkeypatch.setattr(loops, "_child_of", never_paused)
    monkeypatch.setattr(loops, "paused_meanwhile", lambda *_a, **_k: None)
    seed = _caught("foreach_failures", _is("ran_while_paused"), actions=True)
    assert any("its ancestor run" in d for d in _run("foreach_failures", seed, actions=True))


def test_a_permit_kept_after_a_final_failure_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The follow-ups of a final failure (attempts._after_final_failure) without their
    ``release_all``: the permit is freed only by the sweeper once its lease passed (or
    by the run's end), so nothing is left held at the end. The callback steps of
    ``callback_any`` share a key of limit 1 and end FAILED or TIMED_OUT as the seed
    draws."""
    _without_release_in("_after_final_failure", monkeypatch)
    _caught("callback_any", _is("permit_held_after_end"))


def test_a_permit_kept_through_a_retry_wait_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """after_retry_wait without its ``release_all``: the failed attempt keeps its permit
    through the retry delay (the next attempt's claim drops it as a stale hold of its
    own). Seen in the fault-free world of ``key_limit`` already."""
    _without_release_in("after_retry_wait", monkeypatch)
    details = _run("key_limit", 0)
    assert any(d.startswith("permit_held_after_end: fault-free:") for d in details), details
