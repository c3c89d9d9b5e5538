"""A local step that runs longer than a worker's lease (16 minutes) under ``podium dev``.

``podium dev`` on the local home runs at least 4 worker threads, and each of them does
the housekeeping between its deliveries: every minute, the sweeper runs, as the deployed
stack's scheduled sweeper does (local/dev_server.py). A synchronous attempt (a lambda
step played by a local function) gets a 16-minute lease (Services.lease_ms), which on
AWS no invoke outlives (Lambda stops at 15). Locally nothing bounds the call: a local
function that trains a model or loads a big table for 20 minutes is found by the sweeper
of another worker past its lease while it still runs, "reclaimed" as a lost worker, and
its step retried: the same function started again on another thread while the first
call went on, and the first call's result was dropped. The sweeper leaves an attempt
this process still runs alone now (service/in_flight.py), unless its own timeout passed.

Driven on the SQLite home with a manual clock: while the function runs, 17 minutes pass
and the sweeper runs (as another dev worker's housekeeping would)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

RUNTIME: list[LocalRuntime] = []
CALLS: Counter[str] = Counter()
HERE = "tests.unit.test_long_local_step_not_reclaimed"


def _first_call_runs_for(event: dict[str, Any], minutes: int) -> None:
    """The step's first call goes on for ``minutes``, and while it does, another dev
    worker's housekeeping sweeps."""
    CALLS[event["step"]] += 1
    if CALLS[event["step"]] == 1:
        rt = RUNTIME[0]
        clock = rt.clock
        assert isinstance(clock, ManualClock)
        clock.advance(minutes * 60_000)
        sweep(rt.services, rt.store)


def slow(event: dict[str, Any]) -> dict[str, Any]:
    _first_call_runs_for(event, 7)  # past the step's 5-minute timeout
    return {"attempt": event["attempt"]}


def train(event: dict[str, Any]) -> dict[str, Any]:
    _first_call_runs_for(event, 17)  # a 17-minute training run, past the 16-minute lease
    return {"auc": 0.91, "attempt": event["attempt"]}


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[LocalRuntime]:
    CALLS.clear()
    with LocalRuntime(store="sqlite", home=tmp_path / "home", clock=ManualClock()) as runtime:
        RUNTIME[:] = [runtime]
        yield runtime
    RUNTIME.clear()


def test_a_local_step_longer_than_the_lease_is_not_started_again_while_it_runs(
    rt: LocalRuntime,
) -> None:
    view = rt.run(
        {
            "name": "long_local_training",
            "steps": [{"id": "train", "type": "lambda", "function": f"{HERE}:train"}],
        }
    )
    step = view.steps[0]
    assert view.run.status is RunStatus.SUCCEEDED
    assert step.status is StepStatus.SUCCEEDED
    # One call: the first one was never lost, its worker was running it all along.
    assert CALLS["train"] == 1, f"the function ran {CALLS['train']} times"
    assert step.attempt == 1 and step.output == {"auc": 0.91, "attempt": 1}


def test_a_local_step_past_its_own_timeout_still_times_out_while_it_runs(
    rt: LocalRuntime,
) -> None:
    """Running here is no reason to outlive the step's ``timeout``: the sweeper times it
    out (the call's late result is not applied), as it would a Lambda's."""
    view = rt.run(
        {
            "name": "local_timeout",
            "steps": [{"id": "s", "type": "lambda", "function": f"{HERE}:slow", "timeout": 300}],
        }
    )
    step = view.steps[0]
    assert view.run.status is RunStatus.TIMED_OUT, view.run
    assert step.status is StepStatus.TIMED_OUT and step.attempt == 1
    assert CALLS["s"] == 1
