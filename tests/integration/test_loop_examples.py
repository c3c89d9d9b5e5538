"""The loop examples run end to end with podium.testing, on the embedded default
(SQLite) and on moto: a hyperparameter sweep and a while loop that trains until a
threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.core.engine.status import RunStatus
from podium.testing import run_workflow, step_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("store", ["sqlite", "moto"])
def test_the_sweep_trains_every_combination_and_picks_the_best(store: str) -> None:
    view = run_workflow(ROOT / "examples/hyperparameter_sweep/workflow.yaml", store=store)
    assert view.run.status is RunStatus.SUCCEEDED
    grid = step_of(view, "grid").output
    assert (grid["count"], grid["succeeded"], grid["failed"]) == (12, 12, 0)
    # Index-aligned, the first param (lr) varying fastest.
    trained = grid["outputs"]["train"]
    assert [(t["lr"], t["depth"]) for t in trained[:5]] == [
        (0.3, 2),
        (0.1, 2),
        (0.03, 2),
        (0.01, 2),
        (0.3, 3),
    ]
    best = step_of(view, "pick_best").output
    assert best == {"best": {"lr": 0.03, "depth": 3, "score": 0.95}, "tried": 12, "failed": 0}


def test_a_smaller_sweep_follows_its_params() -> None:
    view = run_workflow(
        ROOT / "examples/hyperparameter_sweep/workflow.yaml",
        {"learning_rates": [0.1, 0.01], "max_depth": 2},
    )
    assert step_of(view, "grid").output["count"] == 2  # 2 rates x depth 2 only


@pytest.mark.parametrize("store", ["sqlite", "moto"])
def test_training_stops_once_the_loss_is_below_the_threshold(store: str) -> None:
    view = run_workflow(
        ROOT / "examples/train_until/workflow.yaml", {"threshold": 0.001}, store=store
    )
    assert view.run.status is RunStatus.SUCCEEDED
    loop = step_of(view, "until_converged").output
    assert loop["iterations"] == 11 and loop["state"] == {"epoch": 11, "loss": 0.00078125}
    assert step_of(view, "report").output == "converged after 11 epochs, loss 0.00078125"
