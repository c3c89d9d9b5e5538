"""``steps.<id>.params`` of the step that just ended is readable where its output is
at hand (an edge's ``when``, the step's own ``emit``).

The step's output was passed in as already known (service/bindings.bindings_for's
``known``) and bound as ``{"output": ...}`` alone, so reading ``steps.a.params`` there
failed with "no such key: 'params'": the run failed on the edge (only when the step
returned an output; after a noop it held), and the emit was logged as not rendered and
never sent, leaving whatever waited for it waiting until its timeout. The params are
now bound beside the known output: ``{}`` for a step that declares none (no read), or
read from the step's item, where they are stored."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

FN = "tests.integration.test_steps_params_read_beside_an_output_at_hand:rows"


def rows(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """A Lambda stand-in that returns an output (as almost every real step does)."""
    return {"rows": 3}


@pytest.fixture
def rt(home_rt: LocalRuntime) -> LocalRuntime:
    home_rt.functions["count-rows"] = FN  # shared with its runner
    return home_rt


def _status(rt: LocalRuntime, run_id: str, step: str) -> StepStatus:
    record = rt.store.get_step(run_id, step)
    assert record is not None
    return record.status


def test_an_edge_condition_reads_steps_params_of_a_step_that_returned_an_output(
    rt: LocalRuntime,
) -> None:
    """``size(steps.a.params) == 0`` on an edge from a step without params failed the
    run ("no such key: 'params'") once ``a`` returned an output; it now holds."""
    rt.push(
        {
            "name": "edge",
            "steps": [
                {"id": "a", "type": "lambda", "function": "count-rows"},
                {
                    "id": "b",
                    "type": "noop",
                    "depends_on": [{"step": "a", "when": "size(steps.a.params) == 0"}],
                },
            ],
        }
    )
    run = rt.start_run("edge")
    rt.pump()
    view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.SUCCEEDED, view.run.error
    assert _status(rt, run.run_id, "b") is StepStatus.SUCCEEDED


def test_an_emit_reads_its_own_steps_params(rt: LocalRuntime) -> None:
    """An ``emit`` sending ``${steps.load.params.table}`` was never sent once the step
    returned an output (logged only: "no such key: 'params'"); it is now sent with the
    rendered param, and the run waiting for it goes on."""
    rt.push(
        {
            "name": "producer",
            "steps": [
                {
                    "id": "load",
                    "type": "lambda",
                    "function": "count-rows",
                    "params": {"table": "sales"},
                    "emit": [
                        {"signal": "loaded", "params": {"table": "${steps.load.params.table}"}}
                    ],
                }
            ],
        }
    )
    rt.push(
        {
            "name": "consumer",
            "steps": [
                {
                    "id": "w",
                    "type": "noop",
                    "wait_for": [{"signal": "loaded", "match": {"table": "sales"}}],
                }
            ],
        }
    )
    waiting = rt.start_run("consumer")
    rt.pump(advance_time=False)
    produced = rt.start_run("producer")
    rt.pump(advance_time=False)
    assert rt.describe(produced.run_id).run.status is RunStatus.SUCCEEDED
    rt.pump(advance_time=False)
    assert _status(rt, waiting.run_id, "w") is StepStatus.SUCCEEDED
