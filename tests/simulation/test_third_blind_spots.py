"""The shapes and invariants added where a third mutation run of the simulation found
blind spots (sim/shapes.py, sim/invariants.py, sim/callbacks.py, sim/jobs.py). Each test
breaks the engine the same way on purpose and shows the simulation catches it (all but
the last in the fault-free baseline, which every seed of the shape checks), and a
control shows the clean engine passes:

- a schedule's firing that never marks its time fired, so ``catchup`` makes up
  nothing: ``schedule_catchup``'s 4 runs (``distinct_runs``);
- a callback taken for an older attempt of its step: ``callback_stale``
  (``callback_retry``'s ``fail_echo`` party);
- a run's deadline timer that does nothing when it comes at the deadline itself:
  ``late_fault_free`` (``run_timeout``'s 1,800 s timeout, a one-time schedule);
- a child run that inherits the later of its parent's bounds, not the earlier: a
  result after the deadline accepted, ``callback_outcome`` (``callback_parent_deadline``'s
  ``it_past``, called back 1 ms after the run's deadline);
- a job start that reached nothing failing its attempt instead of giving it back:
  ``job_lost`` (``job_give_back``: the job a throttled-but-accepted submit started is
  never looked up again)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.adapters.trigger_states import MemoryTriggerStates
from podium.core.engine.status import StepStatus
from podium.service import callbacks, deadlines, inbox
from podium.service.runtimes import foreach, subworkflow, while_loop
from podium.service.runtimes.base import Failed, GiveBack
from podium.service.runtimes.external import ExternalJobRuntime
from tests.simulation.test_blind_spot_shapes import _caught, _details  # one seed, judged

NEW_SHAPES = (
    "schedule_catchup",
    "callback_retry",
    "run_timeout",
    "callback_parent_deadline",
    "callback_step_deadline",
    "job_give_back",
)


@pytest.mark.parametrize("shape", NEW_SHAPES)
def test_the_clean_engine_passes_the_new_shapes(shape: str) -> None:
    for seed in range(3):
        assert _details(shape, seed) == [], (shape, seed)


def test_a_firing_that_marks_nothing_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """0:20's firing knows of no last one: it catches up nothing (2 runs, not 4)."""
    monkeypatch.setattr(MemoryTriggerStates, "mark_fired", lambda self, *a, **k: False)
    details = _details("schedule_catchup")
    assert _caught(details, "unexpected_result: fault-free", "2 runs, want 4"), details


def test_a_callback_taken_for_an_older_attempt_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any running attempt counted as waiting: the old attempt's heartbeat (and its
    failure again) accepted while the next attempt waits."""
    monkeypatch.setattr(
        callbacks,
        "_is_waiting",
        lambda record, number: record is not None and record.status is StepStatus.RUNNING,
    )
    details = _details("callback_retry")
    assert _caught(details, "callback_stale: fault-free", "a heartbeat accepted"), details


def test_a_deadline_timer_at_the_deadline_itself_doing_nothing_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timer, due at the deadline (a one-time schedule fires on time), taken as
    early: the run times out only at the sweeper's next pass, a minute late."""
    from podium.service.lifecycle import on_run_deadline as real

    def early_at_the_deadline(ctx: Any, run_id: str) -> Any:
        run = ctx.store.get_run(run_id)
        if not run.status.terminal and deadlines.run_deadline(ctx, run) == ctx.now():
            return None
        return real(ctx, run_id)

    monkeypatch.setattr(inbox, "on_run_deadline", early_at_the_deadline)
    details = _details("run_timeout")
    assert _caught(details, "late_fault_free: fault-free", "its timeout is 1800"), details


def test_a_child_inheriting_the_later_bound_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop step's 3,600 s passed down instead of the run's 300 s: a child takes a
    result received after the run's deadline (202), before the run's timer stops it."""

    def the_later(ctx: Any, attempt: Any) -> int | None:
        ends = [
            d
            for d in (deadlines.run_deadline(ctx, attempt.run), deadlines.step_deadline(attempt))
            if d is not None
        ]
        return max(ends) if ends else None

    for module in (foreach, subworkflow, while_loop):
        monkeypatch.setattr(module, "children_deadline", the_later)
    details = _details("callback_parent_deadline")
    assert _caught(details, "callback_outcome: fault-free", "a result was accepted (202)"), details


def test_a_start_that_reached_nothing_failing_its_attempt_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Failed, not given back: the next attempt starts under a new key, and the job a
    submit answered as throttled had started is never asked about again. Under faults
    only (no throttle without them): some seed of the first few catches it."""
    real = ExternalJobRuntime.start

    def fails(self: Any, ctx: Any, attempt: Any) -> Any:
        result = real(self, ctx, attempt)
        return Failed(result.error) if isinstance(result, GiveBack) else result

    monkeypatch.setattr(ExternalJobRuntime, "start", fails)
    found = [seed for seed in range(12) if _caught(_details("job_give_back", seed), "job_lost")]
    assert found, "no seed of 0:12 caught it"
