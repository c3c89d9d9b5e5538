"""A while step's errors name the step once (the run's error adds it) and say where an
expression failed: the ``update`` field and the iteration after which, or the
``condition`` and the iteration before which. Before, the run read ``fit: fit:
iteration 0 FAILED: ...`` and an expression error was its bare message (``fit: no such
key: 'nope'``, ``fit: divide by zero``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_while_errors"


def train(event: dict[str, Any]) -> dict[str, Any]:
    if event["payload"].get("crash"):
        raise RuntimeError("diverged")
    return {"loss": 0.5}


def fit(**step: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "id": "fit",
        "type": "while",
        "state": {"n": 0, "loss": 1.0},
        "condition": "state.n < 3",
        "update": {"n": "${state.n + 1}"},
        "steps": [
            {
                "id": "train",
                "type": "lambda",
                "function": f"{HERE}:train",
                "payload": {"n": "${state.n}"},
            }
        ],
    }
    spec.update(step)
    return {"name": "fit", "steps": [spec]}


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _fit(view: Any) -> Any:
    return next(s for s in view.steps if s.step == "fit")


def test_a_failed_while_names_itself_once(mem: LocalRuntime) -> None:
    doc = fit()
    doc["steps"][0]["steps"][0]["payload"]["crash"] = True
    view = mem.run(doc)
    assert view.run.status is RunStatus.FAILED
    assert "iteration 0 FAILED" in (_fit(view).error or "")
    assert "fit: fit:" not in (view.run.error or ""), view.run.error


def test_an_update_error_says_it_is_the_update(mem: LocalRuntime) -> None:
    view = mem.run(fit(update={"n": "${state.n + 1}", "loss": "${steps.train.output.nope}"}))
    assert view.run.status is RunStatus.FAILED
    error = _fit(view).error or ""
    assert "nope" in error
    assert "update.loss after iteration 0" in error, error


def test_a_condition_error_says_it_is_the_condition(mem: LocalRuntime) -> None:
    view = mem.run(fit(condition="10 / state.n > 1"))
    assert view.run.status is RunStatus.FAILED
    error = _fit(view).error or ""
    assert "condition before iteration 0" in error, error
