"""A foreach's output was not bounded.

A step's output is at most 10 MiB as JSON (docs/operations.md, Limits;
core/engine/outputs.py MAX_OUTPUT_BYTES): runners/adapters check a Lambda's or an http
step's result (``checked_output``) and fail the attempt with Podium.OutputError past it.
A foreach's output is built by the engine (service/runtimes/foreach.py ``_output`` ->
service/loops.py ``child_outputs``): every iteration's output, each read back whole from
Payloads, was gathered in one list in the memory of the function that ends the loop,
then serialized and stored (service/attempt_records.py ``stored``) with no bound at
all, though the docs promise the same treatment as "any other step output"
(workflow-language.md, foreach Output). At scale (100,000 iterations of 1 KB each, or
100 of 9 MiB each) that is hundreds of MB in a 512 MB advance function: it died on
every delivery of the loop's last end and the run never ended.

Now ``child_outputs`` counts the outputs' bytes as it gathers them (a big one's from its
reference, before reading it), and the loop fails with Podium.OutputError past the
limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.outputs import MAX_OUTPUT_BYTES, OUTPUT_ERROR, is_ref
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_payload_loop_output_bounded"


def six_mib(event: dict[str, Any]) -> str:
    return "x" * (6 * 1024 * 1024)  # within the 10 MiB limit of one step's output


WF = {
    "name": "gathers",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [1, 2]},
            "steps": [{"id": "s", "type": "lambda", "function": f"{HERE}:six_mib"}],
        }
    ],
}


def test_a_foreach_output_over_the_step_output_limit_is_refused(tmp_path: Path) -> None:
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=tmp_path / ".podium") as rt:
        view = rt.run(WF)
    each = {s.step: s for s in view.steps}["each"]
    if each.status is StepStatus.FAILED:  # refused as any other step's output is
        assert each.error is not None and OUTPUT_ERROR in each.error, each.error
        return
    # Or kept small (e.g. the iterations' outputs by reference): never past the limit.
    size = each.output["bytes"] if is_ref(each.output) else 0
    # Before: SUCCEEDED with a 12,582,984-byte output, gathered whole in memory.
    assert size <= MAX_OUTPUT_BYTES, (each.status, size)
