"""Two processes on one home: a long local function in one, ``podium dev``'s sweep in
the other. The sweep reclaimed the attempt the other process was still running; now it
leaves it alone.

``podium dev`` sweeps the home once a minute (local/dev_server.py ``_housekeeping``). A
synchronous attempt (a lambda step played by a local function) has a 16-minute lease,
and a local function may run longer (a training run). The sweeper left alone an attempt
*its own process* still ran (service/in_flight.py), but in_flight was a per-process
registry: an attempt another live process on the same home was running (a ``podium run
train.yaml`` in one terminal, ``podium dev`` open in another to watch it in the console;
or two ``podium dev`` on one home) was reclaimed by dev's sweep once its lease passed,
and started again, while the first call was still running; the first call's result was
then dropped. Now a claim on the home names the process that made it (the steps table's
``claimed_by``, its ``owners`` token), and the sweeper leaves an attempt whose claimant
still lives, unless the step's own timeout passed.

Two runtimes on one home stand for the two processes (each has its own store object,
so its own in_flight registry, and its own owner token in the home's ``owners``
registry, alive). They share a manual clock: while A's function runs, 17 minutes pass
and B's sweep runs, as dev's housekeeping would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.sweep import SweepReport, sweep

HERE = "tests.integration.test_sweep_leaves_another_process_attempt"
CALLS: Counter[str] = Counter()
OTHER: list[LocalRuntime] = []
REPORTS: list[SweepReport] = []


def train(event: dict[str, Any]) -> dict[str, Any]:
    """A 17-minute training call; meanwhile the other process sweeps the home."""
    CALLS["train"] += 1
    if CALLS["train"] == 1:
        dev = OTHER[0]
        assert isinstance(dev.clock, ManualClock)
        dev.clock.advance(17 * 60_000)
        REPORTS.append(sweep(dev.services, dev.store))
    return {"auc": 0.91, "attempt": event["attempt"]}


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[LocalRuntime, LocalRuntime]]:
    CALLS.clear()
    REPORTS.clear()
    clock = ManualClock()
    home = tmp_path / "home"
    # B ("podium dev") first: the runtime started last is the one the handlers use.
    with (
        LocalRuntime(store="sqlite", home=home, clock=clock) as dev,
        LocalRuntime(store="sqlite", home=home, clock=clock) as runner,
    ):
        OTHER[:] = [dev]
        try:
            yield runner, dev
        finally:
            OTHER.clear()


def test_dev_sweep_leaves_a_step_another_live_process_is_running(
    two_processes: tuple[LocalRuntime, LocalRuntime],
) -> None:
    runner, dev = two_processes
    assert dev.owners is not None and dev.owners.others_alive()  # the runner is alive
    runner.push(
        {
            "name": "train_in_a_terminal",
            "steps": [{"id": "train", "type": "lambda", "function": f"{HERE}:train"}],
        }
    )
    run_id = runner.start_run("train_in_a_terminal").run_id
    runner.pump(wait=False)  # the start, then the claim and the 17-minute call

    assert CALLS["train"] == 1
    step = runner.store.get_step(run_id, "train")
    assert step is not None
    assert (step.status, step.attempt) == (StepStatus.SUCCEEDED, 1), (
        f"the runner's result was dropped: the step is {step.status.value} at attempt"
        f" {step.attempt}, to be run again"
    )
    (report,) = REPORTS
    # The runner's call was in flight all along: nothing was lost, nothing to reclaim.
    assert report.reclaimed == [], f"dev's sweep reclaimed a live attempt: {report.reclaimed}"
