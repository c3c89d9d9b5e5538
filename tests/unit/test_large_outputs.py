"""Outputs over a few KB go to Payloads once and the step item keeps a reference that
downstream expressions and payloads read through; past 10 MB the attempt fails clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.outputs import INLINE_OUTPUT_BYTES, INLINE_PARAMS_BYTES, is_ref
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.unit.test_large_outputs"


def big(event: dict[str, Any]) -> dict[str, Any]:
    return {"rows": list(range(20_000)), "name": "big"}


def too_big(event: dict[str, Any]) -> str:
    return "x" * (11 * 1024 * 1024)


def count(event: dict[str, Any]) -> int:
    return int(event["payload"]["n"])


def test_a_large_output_is_stored_by_reference_and_read_downstream() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(
            {
                "name": "large",
                "steps": [
                    {"id": "a", "type": "lambda", "function": f"{HERE}:big"},
                    {
                        "id": "b",
                        "type": "lambda",
                        "function": f"{HERE}:count",
                        "depends_on": [{"step": "a", "when": "size(steps.a.output.rows) > 100"}],
                        "payload": {"n": "${size(steps.a.output.rows)}"},
                    },
                ],
            }
        )
    steps = {s.step: s for s in view.steps}
    assert view.run.status is RunStatus.SUCCEEDED
    assert is_ref(steps["a"].output) and steps["a"].output["bytes"] > INLINE_OUTPUT_BYTES
    assert steps["b"].output == 20_000


def test_an_output_over_the_limit_fails_without_retry() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(
            {
                "name": "huge",
                "steps": [
                    {"id": "a", "type": "lambda", "function": f"{HERE}:too_big", "retries": 2}
                ],
            }
        )
    step = view.steps[0]
    assert step.status is StepStatus.FAILED and step.attempt == 1
    assert step.error is not None and "10,485,760" in step.error


def echo_params(event: dict[str, Any]) -> int:
    return len(event["params"]["rows"])


BIG_PARAMS_WF = {
    "name": "big_params",
    "params": {"rows": {"type": "list", "default": []}},
    "steps": [
        {"id": "a", "type": "lambda", "function": f"{HERE}:echo_params"},
        {
            "id": "b",
            "type": "noop",
            "depends_on": [{"step": "a", "when": "size(params.rows) > 10"}],
        },
    ],
}


def test_large_run_params_are_stored_once_by_reference(tmp_path: Path) -> None:
    rows = [f"row-{i:05d}" for i in range(2_000)]  # about 24 KB: over the inline 4 KB
    for store in ("memory", "sqlite"):
        # A home of its own: without one, the SQLite store's is ./.podium (the repo's).
        home = {"home": tmp_path / "home"} if store == "sqlite" else {}
        with LocalRuntime(store=store, clock=ManualClock(), **home) as rt:
            view = rt.run(BIG_PARAMS_WF, {"rows": rows})
            stored = rt.store.get_run(view.run.run_id)
        assert is_ref(stored.params) and stored.params["bytes"] > INLINE_PARAMS_BYTES, store
        assert view.run.status is RunStatus.SUCCEEDED, store
        assert view.run.params == {"rows": rows}  # describe shows them resolved
        steps = {s.step: s for s in view.steps}
        assert steps["a"].output == 2_000 and steps["b"].status is StepStatus.SUCCEEDED


def test_run_params_over_a_mebibyte_are_refused_with_the_fix() -> None:
    import pytest

    from podium.core.dsl.errors import DefinitionError

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(BIG_PARAMS_WF)
        with pytest.raises(DefinitionError) as exc:
            rt.start_run("big_params", {"rows": ["x" * 1000] * 1100})
    assert "over the limit of 1,048,576" in str(exc.value) and "reference" in str(exc.value)


def test_large_rendered_step_params_are_stored_by_reference_and_read_downstream() -> None:
    # Step params rendered from a big upstream output would grow the step item toward
    # DynamoDB's 400 KB: past a few KB they go to Payloads as outputs do.
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run(
            {
                "name": "wide_params",
                "steps": [
                    {"id": "a", "type": "lambda", "function": f"{HERE}:big"},
                    {
                        "id": "b",
                        "type": "noop",
                        "depends_on": ["a"],
                        "params": {"rows": "${steps.a.output.rows}"},
                    },
                    {
                        "id": "c",
                        "type": "lambda",
                        "function": f"{HERE}:count",
                        "depends_on": [{"step": "b", "when": "size(steps.b.params.rows) > 100"}],
                        "payload": {"n": "${size(steps.b.params.rows)}"},
                    },
                ],
            }
        )
    assert view.run.status is RunStatus.SUCCEEDED
    steps = {s.step: s for s in view.steps}
    assert is_ref(steps["b"].params)
    assert steps["b"].params["bytes"] > INLINE_OUTPUT_BYTES
    assert steps["c"].output == 20_000


def half_mb(event: dict[str, Any]) -> str:
    return "y" * (512 * 1024)


def seen(event: dict[str, Any]) -> dict[str, Any]:
    # What the step's Lambda event carries of its iteration, and what its payload read.
    it = event["iteration"]
    value = it["state"]["blob"] if "state" in it else it["blob"]
    return {"index": it["index"], "len": len(value), **event["payload"]}


@pytest.mark.parametrize("store", ["memory", "sqlite", "moto"])
def test_a_big_while_state_and_a_big_loop_value_are_stored_by_reference(store: str) -> None:
    # A state built from a 512 KB output (and a foreach value as big) made the child
    # run's item too big for DynamoDB (400 KB): its create failed on every pass and the
    # loop never went on. Now each is written once to Payloads; every reader resolves it.
    home = {"home": ":memory:"} if store == "sqlite" else {}
    blob = "z" * (512 * 1024)
    with LocalRuntime(store=store, clock=ManualClock(), **home) as rt:
        view = rt.run(
            {
                "name": "big_state",
                "steps": [
                    {
                        "id": "grow",
                        "type": "while",
                        "state": {"blob": ""},
                        "condition": "iteration.index < 2",
                        "update": {"blob": "${steps.make.output}"},
                        "steps": [
                            {"id": "make", "type": "lambda", "function": f"{HERE}:half_mb"},
                            {
                                "id": "look",
                                "type": "lambda",
                                "function": f"{HERE}:seen",
                                "depends_on": ["make"],
                                "payload": {"state_len": "${size(state.blob)}"},
                            },
                        ],
                    },
                    {
                        "id": "each",
                        "type": "foreach",
                        "over": {"blob": [blob]},
                        "steps": [
                            {
                                "id": "look",
                                "type": "lambda",
                                "function": f"{HERE}:seen",
                                "payload": {"value_len": "${size(iteration.blob)}"},
                            }
                        ],
                    },
                ],
            }
        )
        assert view.run.status is RunStatus.SUCCEEDED, view.run.error
        store_ = rt.services.store
        second = store_.get_run(f"{view.run.run_id}.grow.1")
        assert is_ref(second.iteration)  # the state it ran with: 512 KB
        looked = store_.get_step(second.run_id, "look")
        assert looked is not None
        assert looked.output == {"index": 1, "len": 512 * 1024, "state_len": 512 * 1024}
        only = store_.get_run(f"{view.run.run_id}.each.0")
        assert is_ref(only.iteration)
        looked = store_.get_step(only.run_id, "look")
        assert looked is not None and looked.output == {
            "index": 0,
            "len": 512 * 1024,
            "value_len": 512 * 1024,
        }
    steps = {s.step: s for s in view.steps}
    assert steps["grow"].output is not None
