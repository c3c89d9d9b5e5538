"""Was: a runtime's adopt reclaimed a step from a claim list read a moment before, with
no look at who claimed the step now: an attempt a live process had claimed since was
counted as lost and run twice. The claim is read again (claimant and attempt) and the
reclaim is fenced on the attempt.

The home's reclaim of steps whose claimant left (LocalRuntime.adopt,
Owners.abandoned_claims, service/abandoned.py reclaim_left_running), against a claim
that changed hands between the claim list's read and the reclaim.

Two runtimes on one home stand for two processes (as in
test_sweep_leaves_another_process_attempt): a runner, alive, runs the step; ``podium
dev`` adopts. Dev's claim list was read while the step was still RUNNING under a
process that had left (``gone``); before dev got to it, the step was claimed again by the
live runner (another process reclaimed and retried it first, or the sweeper did).
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

HERE = "tests.integration.test_reclaim_of_a_left_claim_taken_again"
CALLS: Counter[str] = Counter()
DEV: list[LocalRuntime] = []
ADOPTED: list[int] = []


def train(event: dict[str, Any]) -> dict[str, Any]:
    """The runner's live call; meanwhile dev adopts with its (stale) claim list."""
    CALLS["train"] += 1
    if CALLS["train"] == 1:
        dev = DEV[0]
        assert dev.owners is not None
        run_id = event["run"]["id"]
        # Read a moment ago, when the step's claimant was a process gone since.
        dev.owners.abandoned_claims = lambda: [(run_id, "train", "gone-process-token")]  # type: ignore[method-assign]
        ADOPTED.append(dev.adopt())
    return {"auc": 0.91, "attempt": event["attempt"]}


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[LocalRuntime, LocalRuntime]]:
    CALLS.clear()
    ADOPTED.clear()
    clock = ManualClock()
    home = tmp_path / "home"
    with (
        LocalRuntime(store="sqlite", home=home, clock=clock) as dev,
        LocalRuntime(store="sqlite", home=home, clock=clock) as runner,
    ):
        DEV[:] = [dev]
        try:
            yield runner, dev
        finally:
            DEV.clear()


def test_adopt_does_not_reclaim_a_step_a_live_process_claimed_since_the_claim_list(
    two_processes: tuple[LocalRuntime, LocalRuntime],
) -> None:
    """``podium dev``'s adopt reclaimed (as lost, and retried) an attempt a live
    ``podium run`` was running, because reclaim_left_running re-reads only the step's
    status, not who claims it now: the attempt ran twice and the first result was
    dropped. It should reclaim only while the step is still claimed by the process
    that left."""
    runner, _dev = two_processes
    runner.push(
        {
            "name": "train_claimed_again",
            "steps": [{"id": "train", "type": "lambda", "function": f"{HERE}:train"}],
        }
    )
    run_id = runner.start_run("train_claimed_again").run_id
    runner.pump(wait=False)

    step = runner.store.get_step(run_id, "train")
    assert step is not None
    assert ADOPTED == [0], f"dev's adopt reclaimed {ADOPTED} step(s) a live process was running"
    assert (step.status, step.attempt, CALLS["train"]) == (StepStatus.SUCCEEDED, 1, 1), (
        f"the live attempt was reclaimed: step {step.status.value} at attempt {step.attempt},"
        f" called {CALLS['train']} time(s)"
    )
