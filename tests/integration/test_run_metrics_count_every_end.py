"""The Runs widget of the dashboard (RunsStarted, RunsSucceeded, RunsFailed, RunsTimedOut,
RunsStopped: docs/operations.md, Metrics) adds up: every run counted as started is
counted once as ended, and no run is counted as ended that was never counted as started.
StepLatency is recorded once per attempt, at its claim.

What was wrong: a run ended by its own ``timeout`` and a run an operator killed (FAILED)
or stopped were counted nowhere (``lifecycle.on_run_deadline`` and
``lifecycle.stop_run`` counted nothing), each loop iteration's end was counted as a run
success or failure (``advance.py``) though its start never was (``loops.py`` counts
``LoopChildrenLaunched``), a fail_immediately end was counted again on a replay, and
StepLatency was recorded only for attempts that succeeded. Now
``lifecycle.count_run_end`` counts a top run's end, by its final status, called only by
the writer whose conditional write ended it; child runs are not counted; and
StepLatency is recorded when an attempt is claimed (``execute.perform``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.metrics import RecordingMetrics
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.lifecycle import run_ended, stop_run

ME = Actor("alice")


@pytest.fixture
def rt() -> Iterator[tuple[LocalRuntime, RecordingMetrics]]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        metrics = RecordingMetrics()
        runtime.services.metrics = metrics
        yield runtime, metrics


def test_a_run_ended_by_its_own_timeout_is_counted_as_failed(
    rt: tuple[LocalRuntime, RecordingMetrics],
) -> None:
    runtime, metrics = rt
    view = runtime.run(
        {"name": "late", "timeout": 60, "steps": [{"id": "s", "type": "sleep", "seconds": 3600}]}
    )
    assert view.run.status is RunStatus.TIMED_OUT
    assert metrics.counts.get("RunsStarted") == 1
    # A step timeout that ends the run TIMED_OUT is counted as RunsFailed; the run's own
    # timeout must be too, or a nightly run that overran is invisible on the dashboard.
    assert metrics.counts.get("RunsFailed", 0) == 1, metrics.counts
    assert metrics.counts.get("RunsTimedOut", 0) == 1, metrics.counts


def test_a_killed_run_is_counted_as_failed(rt: tuple[LocalRuntime, RecordingMetrics]) -> None:
    runtime, metrics = rt
    runtime.push({"name": "long", "steps": [{"id": "s", "type": "sleep", "seconds": 3600}]})
    run = runtime.start_run("long")
    runtime.pump(wait=False)
    run_action(runtime.services, run.run_id, RunAction.KILL, ME)
    runtime.pump(wait=False)
    assert runtime.describe(run.run_id).run.status is RunStatus.FAILED
    assert metrics.counts.get("RunsStarted") == 1
    assert metrics.counts.get("RunsFailed", 0) == 1, metrics.counts


def test_a_stopped_run_is_counted_as_stopped_once(
    rt: tuple[LocalRuntime, RecordingMetrics],
) -> None:
    runtime, metrics = rt
    runtime.push({"name": "long", "steps": [{"id": "s", "type": "sleep", "seconds": 3600}]})
    run = runtime.start_run("long")
    runtime.pump(wait=False)
    run_action(runtime.services, run.run_id, RunAction.STOP, ME)
    runtime.pump(wait=False)
    # The end's follow-ups again, as a replay or the sweeper does: counted once still.
    run_ended(runtime.services, runtime.store.get_run(run.run_id))
    stop_run(runtime.services, run.run_id, "again")
    assert runtime.describe(run.run_id).run.status is RunStatus.STOPPED
    assert metrics.counts.get("RunsStarted") == 1
    assert metrics.counts.get("RunsStopped", 0) == 1, metrics.counts
    assert "RunsFailed" not in metrics.counts and "RunsSucceeded" not in metrics.counts


def test_a_subworkflow_run_is_not_counted_as_a_run(
    rt: tuple[LocalRuntime, RecordingMetrics],
) -> None:
    runtime, metrics = rt
    runtime.push({"name": "inner", "steps": [{"id": "a", "type": "noop"}]})
    view = runtime.run(
        {"name": "outer", "steps": [{"id": "call", "type": "subworkflow", "workflow": "inner"}]}
    )
    assert view.run.status is RunStatus.SUCCEEDED
    # The child run skips admission (not counted as started): its end is not counted.
    assert metrics.counts.get("RunsStarted") == 1
    assert metrics.counts.get("RunsSucceeded", 0) == 1, metrics.counts


def test_loop_iterations_do_not_inflate_run_successes(
    rt: tuple[LocalRuntime, RecordingMetrics],
) -> None:
    runtime, metrics = rt
    view = runtime.run(
        {
            "name": "each",
            "steps": [
                {
                    "id": "per",
                    "type": "foreach",
                    "over": {"i": [1, 2, 3]},
                    "steps": [{"id": "a", "type": "noop"}],
                }
            ],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED
    # One run started and succeeded: the widget must not show 4 successes for 1 start.
    assert metrics.counts.get("RunsSucceeded", 0) == metrics.counts.get("RunsStarted", 0), (
        metrics.counts
    )


def test_step_latency_counts_every_started_attempt_not_only_successes(
    rt: tuple[LocalRuntime, RecordingMetrics],
) -> None:
    """StepLatency is READY to RUNNING (adapters/metrics.py, the dashboard's p50/p90/p99):
    how long a ready step waited for a worker, whatever the attempt then did. Recorded only
    for attempts that succeed (service/attempts.py), a backlog that makes steps time out
    or fail is left out of the very percentiles meant to show it."""
    runtime, metrics = rt
    runtime.run(
        {
            "name": "mixed",
            "steps": [
                {"id": "ok", "type": "noop"},
                {"id": "bad", "type": "fail", "retries": 0},
            ],
        }
    )
    # Two attempts went from READY to RUNNING: both waits belong to the latency.
    assert len(metrics.timings.get("StepLatency", [])) == 2, metrics.timings
