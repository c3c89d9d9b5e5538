"""while: iterations one at a time as child runs, a state carried between them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import validate_definition
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.unit.test_while"


def train(event: dict[str, Any]) -> dict[str, Any]:
    epoch = event["payload"]["epoch"]
    if epoch == event["payload"].get("crash_at"):
        raise RuntimeError("diverged")
    return {"loss": 1.0 / (2 ** (epoch + 1))}


def until(**loop: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": "fit",
        "type": "while",
        "state": {"n": 0, "loss": 1.0},
        "condition": "state.loss > 0.01 && iteration.index < 50",
        "update": {"n": "${state.n + 1}", "loss": "${steps.train.output.loss}"},
        "steps": [
            {
                "id": "train",
                "type": "lambda",
                "function": f"{HERE}:train",
                "payload": {"epoch": "${state.n}", "i": "${iteration.index}"},
            }
        ],
    }
    step.update(loop)
    return {"name": "fit", "steps": [step]}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def fit_of(view: Any) -> Any:
    return next(s for s in view.steps if s.step == "fit")


def test_it_trains_until_the_threshold_carrying_the_state(rt: LocalRuntime) -> None:
    view = rt.run(until())
    assert view.run.status is RunStatus.SUCCEEDED
    assert fit_of(view).output == {"iterations": 7, "state": {"n": 7, "loss": 0.0078125}}
    # Each iteration is a child run holding the state it ran with.
    third = rt.services.store.get_run(child_run_id(view.run.run_id, "fit", 2))
    assert third.iteration == {"index": 2, "state": {"n": 2, "loss": 0.25}}
    assert third.status is RunStatus.SUCCEEDED and third.settled
    assert not rt.services.store.list_active_run_ids()


def test_a_condition_false_at_first_runs_nothing(mem: LocalRuntime) -> None:
    view = mem.run(until(condition="state.loss > 5.0"))
    assert view.run.status is RunStatus.SUCCEEDED
    assert fit_of(view).output == {"iterations": 0, "state": {"n": 0, "loss": 1.0}}


def test_a_failed_iteration_fails_the_step(mem: LocalRuntime) -> None:
    doc = until()
    doc["steps"][0]["steps"][0]["payload"]["crash_at"] = 3
    view = mem.run(doc)
    assert view.run.status is RunStatus.FAILED
    fit = fit_of(view)
    assert fit.status is StepStatus.FAILED
    assert "iteration 3 FAILED" in (fit.error or "") and "diverged" in (fit.error or "")


def test_max_iterations_ends_a_loop_that_would_go_on(mem: LocalRuntime) -> None:
    view = mem.run(until(condition="true", max_iterations=4))
    fit = fit_of(view)
    assert fit.status is StepStatus.FAILED
    assert "after max_iterations (4)" in (fit.error or "")
    assert fit.children_launched == 4


def test_a_while_inside_a_foreach_sees_its_iteration_as_parent(mem: LocalRuntime) -> None:
    inner = until(condition="state.n < iteration.parent.k")["steps"][0]
    view = mem.run(
        {
            "name": "outer",
            "steps": [{"id": "each", "type": "foreach", "over": {"k": [1, 3]}, "steps": [inner]}],
        }
    )
    assert view.run.status is RunStatus.SUCCEEDED
    each = child_run_id(view.run.run_id, "each", 1)
    fit = mem.services.store.get_step(each, "fit")
    assert fit is not None and fit.output["iterations"] == 3


def issues_of(doc: dict[str, Any]) -> str:
    with pytest.raises(DefinitionError) as exc:
        validate_definition(doc)
    return str(exc.value)


def test_its_expressions_are_checked_at_push() -> None:
    assert "steps[0].condition: unknown name 'sate'" in issues_of(until(condition="sate.n < 3"))
    assert "unknown step 'trian'" in issues_of(until(update={"loss": "${steps.trian.output.loss}"}))
    assert "initial state does not declare: epochs" in issues_of(
        until(update={"epochs": "${state.n}"})
    )
    assert "steps[0].state.n: unknown name 'steps'" in issues_of(
        until(state={"n": "${steps.train.output}", "loss": 1.0})
    )
    assert "max_iterations" in issues_of(until(max_iterations=100_001))
    assert "never retried" in issues_of(until(retries=1))
    # Inside the body, state is readable; outside a while it is not.
    outside = {
        "name": "o",
        "steps": [{"id": "a", "type": "lambda", "function": "f", "payload": {"x": "${state.n}"}}],
    }
    assert "unknown name 'state'" in issues_of(outside)
