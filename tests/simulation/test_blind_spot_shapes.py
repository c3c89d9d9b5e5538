"""The shapes and invariants added where a mutation run of the simulation found blind
spots (sim/shapes.py, sim/invariants.py): engine bugs planted in a scratch copy that no
shape or invariant caught. Each test below breaks the engine the same way on purpose and
shows the simulation catches it within a seed or two (most of them in the fault-free
baseline, which every seed checks), and a control shows the clean engine passes:

- a signal trigger that ignores its ``condition``, or never marks its signals used:
  ``signal_trigger``'s two runs (``distinct_runs``);
- a failing child taken as a success, and a ``wait: false`` step that waits for its
  child: ``subworkflow_modes``, ``subworkflow_detached``;
- a subworkflow's ``outputs`` lost, a while's state partly updated: ``payload_differs``;
- a finish_running foreach that runs everything, a fail_fast that stops nothing, a while
  one iteration past ``max_iterations``: ``loop_outcome``;
- a permit release that wakes no waiter: ``late_fault_free`` (``key_wait``);
- a first_only run queued instead of DISCARDED, a strict_sequential queue a failed run
  does not block: ``run_strategy_broken``."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from podium.core.dsl.models import Strategy
from podium.service import admission, permits, runs, signal_triggers
from podium.service.runtimes import foreach, subworkflow, while_loop
from podium.service.runtimes.base import Done, Waiting
from podium.sim.harness import factory_for
from podium.sim.simulate import Simulator


def _details(shape: str, seed: int = 0, *, actions: bool = True) -> list[str]:
    """One seed of one shape at the CI's intensity (its fault-free baseline included)."""
    factory = factory_for("memory")
    with factory.session():
        result = Simulator(factory, (shape,), 2.0, actions=actions).run_seed(seed)
    return list(result.verdict.details)


def _caught(details: list[str], invariant: str, text: str = "") -> bool:
    return any(d.startswith(invariant) and text in d for d in details)


NEW_SHAPES = (
    "subworkflow_modes",
    "subworkflow_detached",
    "loop_policies",
    "signal_trigger",
    "first_only_overlap",
    "key_wait",
    "strict_fail",
    "while_ten",
    "subworkflow",
    "foreach_fail_fast",
)


@pytest.mark.parametrize("shape", NEW_SHAPES)
def test_the_clean_engine_passes_the_new_shapes(shape: str) -> None:
    for seed in range(3):
        assert _details(shape, seed) == [], (shape, seed)


def test_a_signal_trigger_that_ignores_its_condition_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """d2's set fails the condition; ignored, it starts a third run."""
    real = signal_triggers._first_set
    signature = inspect.signature(real)

    def no_condition(*args: Any, **kwargs: Any) -> Any:  # by name: survives a reorder
        bound = signature.bind(*args, **kwargs)
        bound.arguments["condition"] = None
        return real(*bound.args, **bound.kwargs)

    monkeypatch.setattr(signal_triggers, "_first_set", no_condition)
    assert _caught(_details("signal_trigger"), "unexpected_result", "3 runs, want 2")


def test_signals_never_marked_used_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A consume that marks nothing: a signal joins a second set (a run too many)."""
    from podium.adapters.memory_signals import MemorySignals

    monkeypatch.setattr(MemorySignals, "consume", lambda self, *a, **k: True)
    assert _caught(_details("signal_trigger"), "unexpected_result", "runs, want 2")


def test_a_failed_child_taken_as_a_success_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subworkflow, "_outcome", lambda ctx, child: Done({}))
    assert _caught(_details("subworkflow_modes"), "unexpected_result", "(want FAILED)")


def test_a_detached_step_that_waits_for_its_child_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``wait: false`` that waits: the step's 60 s timeout ends it TIMED_OUT, its
    successor SKIPPED; the same statuses under faults are loose, so the fault-free
    expectation (``Shape.fault_free_steps``) catches it."""
    real = subworkflow.SubworkflowRuntime._pass

    def waits(self: Any, ctx: Any, attempt: Any) -> Any:
        result = real(self, ctx, attempt)
        child = ctx.store.get_run(subworkflow._child_id(attempt))
        return Waiting() if isinstance(result, Done) and not child.status.terminal else result

    monkeypatch.setattr(subworkflow.SubworkflowRuntime, "_pass", waits)
    details = _details("subworkflow_detached")
    assert _caught(details, "unexpected_result", "detach is TIMED_OUT without faults"), details


def test_lost_subworkflow_outputs_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's ``outputs`` rendered as nulls: every status stays SUCCEEDED."""
    real = subworkflow._outputs
    monkeypatch.setattr(subworkflow, "_outputs", lambda ctx, child: dict.fromkeys(real(ctx, child)))
    assert _caught(_details("subworkflow"), "payload_differs", "{'got': None}")


def test_a_while_state_updated_in_part_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ``n`` updated: ``last`` keeps its initial value, and the run succeeds."""
    real = while_loop.WhileRuntime._state

    def partly(self: Any, ctx: Any, run: Any, step: str, spec: Any, index: int) -> Any:
        return {**real(self, ctx, run, step, spec, index), "last": ""}

    monkeypatch.setattr(while_loop.WhileRuntime, "_state", partly)
    assert _caught(_details("while_ten"), "payload_differs", "'last': ''")


def test_a_finish_running_foreach_that_runs_everything_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """finish_running taken as continue: every iteration runs, and the step still fails
    (one failure, none tolerated): only the iterations' count shows it."""
    real = foreach.plan_foreach

    def as_continue(counts: Any, concurrency: int, on_failure: Any, *rest: Any) -> Any:
        if on_failure is foreach.OnFailure.FINISH_RUNNING:
            on_failure = foreach.OnFailure.CONTINUE
        return real(counts, concurrency, on_failure, *rest)

    monkeypatch.setattr(foreach, "plan_foreach", as_continue)
    assert _caught(_details("loop_policies"), "loop_outcome", "each: its iterations ended")


def test_a_fail_fast_that_stops_nothing_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = foreach.plan_foreach

    def no_stop(*args: Any) -> Any:
        return dataclasses.replace(real(*args), stop_running=False)

    monkeypatch.setattr(foreach, "plan_foreach", no_stop)
    assert _caught(_details("foreach_fail_fast"), "loop_outcome", "'STOPPED': 2")


def test_a_while_one_iteration_past_its_cap_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """``max_iterations: 3`` run 4 times: the step fails all the same. Caught under
    faults too, the while's count being one no timing changes (without operators, who
    often retry the failed step or stop the run: then it is not judged)."""
    real = while_loop.WhileRuntime._pass

    def one_more(self: Any, ctx: Any, attempt: Any, read: Any = None) -> Any:
        spec = attempt.spec.model_copy(update={"max_iterations": attempt.spec.max_iterations + 1})
        return real(self, ctx, dataclasses.replace(attempt, spec=spec), read)

    monkeypatch.setattr(while_loop.WhileRuntime, "_pass", one_more)
    details = _details("loop_policies", actions=False)
    assert _caught(details, "loop_outcome: faulty", "loop: its iterations ended"), details


def test_a_release_that_wakes_no_waiter_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The permit is given back but the queue's head is not woken: the sweeper wakes it,
    up to a minute later; every run still succeeds."""
    monkeypatch.setattr(permits, "wake_head", lambda ctx, key: None)
    assert _caught(_details("key_wait"), "late_fault_free", "claimed a permit of sim_key_wait")


def test_a_first_only_run_queued_instead_of_discarded_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Admitted as sequential: the runs started during the first one's minute of sleep
    wait and run after it, each SUCCEEDED (which first_only allows on its own)."""
    real = runs.admit_run

    def queued(ctx: Any, run: Any, defn: Any) -> Any:
        if defn.strategy is Strategy.FIRST_ONLY:
            defn = defn.model_copy(update={"run_strategy": Strategy.SEQUENTIAL})
        return real(ctx, run, defn)

    monkeypatch.setattr(runs, "admit_run", queued)
    assert _caught(_details("first_only_overlap"), "run_strategy_broken", "must be DISCARDED")


def test_a_strict_queue_a_failed_run_does_not_block_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The runs behind the failed one start at once, and succeed, as expected after the
    settling's unblock: only the order of the writes shows it."""
    monkeypatch.setattr(admission, "_blocks", lambda ctx, run: False)
    assert _caught(_details("strict_fail"), "run_strategy_broken", "with no unblock in between")
