"""``past_run_deadline`` (sim/invariants.py): a run's own ``timeout`` is respected. No
step starts and no user function is invoked for an attempt claimed after the run's
deadline, the run does not end SUCCEEDED after it, and a step ends with a result after
it only when it had that result by then (a callback received in time, a sleep due by
then). Shown to bite: an engine whose run timeout does nothing, and hand-made late
starts and invocations, each on both sides of the deadline."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from podium.adapters.memory_store import MemoryStateStore
from podium.sim.harness import Proc, World
from podium.sim.invariants import Verdict, _run_deadline, check_world
from podium.sim.shapes import Expected, RunSpec, Shape, lam
from tests.simulation.test_callback_shapes import _run

# A run timeout of 120 s over a 600 s sleep: the run must end TIMED_OUT at 120 s, the
# sleep TIMED_OUT with it, and ``b`` never start.
OVERRUN = Shape(
    "deadline_overrun",
    (
        {
            "name": "sim_overrun",
            "timeout": 120,
            "steps": [
                {"id": "nap", "type": "sleep", "seconds": 600, "timeout": 900},
                lam("b", depends_on=["nap"]),
            ],
        },
    ),
    (RunSpec("sim_overrun"),),
    (Expected("TIMED_OUT", {"nap": "TIMED_OUT"}),),
)


def _world(shape: Shape = OVERRUN) -> World:
    world = World(0, shape, MemoryStateStore(), faulty=False)
    world.run()
    return world


def _late(world: World) -> list[str]:
    verdict = Verdict()
    check_world(world, verdict, "test")
    return [d for d in verdict.details if d.startswith("past_run_deadline")]


def _ignore_run_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine as if it had no run timeout: its timer, the completions' and claims'
    checks and the sweeper's all find no deadline (``deadlines.run_deadline`` wherever
    a module of the service took it by name)."""
    import sys

    from podium.service import deadlines, execute, inbox, sweep  # noqa: F401

    real = deadlines.run_deadline
    patched = [
        module
        for name, module in sorted(sys.modules.items())
        if name.startswith("podium.service") and getattr(module, "run_deadline", None) is real
    ]
    assert deadlines in patched
    for module in patched:
        monkeypatch.setattr(module, "run_deadline", lambda *_a, **_k: None)


def test_a_run_that_times_out_in_time_violates_nothing() -> None:
    world = _world()
    run = world.outcomes()[0].run
    assert run is not None and run.status.value == "TIMED_OUT"
    verdict = Verdict()
    check_world(world, verdict, "test")
    assert verdict.ok, verdict.details


def test_a_run_timeout_that_does_nothing_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _ignore_run_timeouts(monkeypatch)
    world = _world()
    outcome = world.outcomes()[0]
    assert outcome.run is not None and outcome.run.status.value == "SUCCEEDED"
    late = _late(world)
    run_id = outcome.run.run_id
    assert any(f"run {run_id} ended SUCCEEDED" in d for d in late), late
    assert any(f"{run_id}/nap#1 ended SUCCEEDED" in d and "no result" in d for d in late), late
    assert any(f"{run_id}/b#1 (SUCCEEDED) started" in d for d in late), late
    assert any(f"{run_id}/b#1 invoked" in d for d in late), late


def _with_step(world: World, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> str:
    """``b`` read back as if it had run with ``changes`` (its run's id returned)."""
    store = world.inner_store
    run_id = world.run_ids[0]
    real = store.list_steps

    def list_steps(rid: str, *args: Any, **kwargs: Any) -> Any:
        steps = real(rid, *args, **kwargs)
        if rid != run_id:
            return steps
        b = dataclasses.replace(steps[0], step="b", attempt=1, **changes)
        return [*steps, b]

    monkeypatch.setattr(store, "list_steps", list_steps)
    return run_id


@pytest.mark.parametrize(("after_ms", "caught"), [(0, False), (1, True)])
def test_a_step_started_after_the_deadline_is_caught(
    after_ms: int, caught: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start at the deadline is in time (as the engine judges: ``at > deadline``)."""
    world = _world()
    run = world.inner_store.get_run(world.run_ids[0])
    deadline = _run_deadline(world, run)
    assert deadline is not None
    _with_step(world, monkeypatch, started_at=deadline + after_ms, ended_at=deadline + 5)
    late = [d for d in _late(world) if "/b#1 (TIMED_OUT) started" in d]
    assert bool(late) is caught, late
    if caught:
        assert "started 1 ms after the run's deadline" in late[0], late


@pytest.mark.parametrize(
    ("claimed", "began", "caught"),
    [
        (0, 0, False),  # claimed at the deadline, invoked after it: begun in time
        (1, 0, True),  # its latest attempt claimed after it
        (None, 0, False),  # an earlier attempt whose worker began at the deadline
        (None, 1, True),  # ... that began after it: its claim came after it too
    ],
)
def test_an_invocation_claimed_after_the_deadline_is_caught(
    claimed: int | None, began: int, caught: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world()
    run = world.inner_store.get_run(world.run_ids[0])
    deadline = _run_deadline(world, run)
    assert deadline is not None
    attempt = 1 if claimed is not None else 2
    if claimed is not None:  # b's latest attempt is the one invoked
        _with_step(world, monkeypatch, started_at=deadline + claimed, ended_at=deadline + claimed)
    else:  # b is at attempt 1, claimed in time; attempt 2's invocation is left over
        _with_step(world, monkeypatch, started_at=deadline - 10, ended_at=deadline - 5)
    worker = Proc("work", "work<exec b>", lambda: None, concurrent=False)
    worker.started_ms = deadline + began
    world.invoked_at[(run.run_id, "b")] = [(attempt, deadline + 30_000)]
    world.invoked_by[(run.run_id, "b", attempt)] = worker
    late = [d for d in _late(world) if "invoked" in d]
    assert bool(late) is caught, late
    if caught:
        assert f"/b#{attempt} invoked 30000 ms after the run's deadline" in late[0], late


def test_a_result_received_by_the_deadline_is_not_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps of callback_run_deadline (no operators) that end with a result the API
    received by the run's deadline, applied after it (lifecycle.kept_result), end
    SUCCEEDED or FAILED after the deadline, rightly: without the exception for a result
    had by the deadline, the invariant flags them. Seeds replay other schedules when
    the engine's calls change, so the test runs seeds until one keeps such a result."""
    from podium.sim import invariants

    real = invariants._had_result_by
    for seed in range(300):
        monkeypatch.setattr(invariants, "_had_result_by", real)
        assert not _run("callback_run_deadline", seed), seed
        monkeypatch.setattr(invariants, "_had_result_by", lambda *_a, **_k: False)
        found = _run("callback_run_deadline", seed)
        if any(d.startswith("past_run_deadline") and "no result" in d for d in found):
            return
    pytest.fail("no seed of 0-299 kept a result past its run's deadline")
