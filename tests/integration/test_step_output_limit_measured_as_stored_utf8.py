"""A step output's 10 MiB limit was measured as Python's ASCII-escaped JSON with spaces.

docs/operations.md (Limits, "step output") says the limit is "10 MiB as JSON (measured
and stored as UTF-8 ...)", and every other bound on a value's size (the rendered
payload, run params, signal payloads, a foreach's gathered outputs) measures compact
UTF-8 JSON. The one check of a step's own output, core/engine/outputs.py
``output_problem``, measured ``len(json.dumps(output))``: ``\\uXXXX`` escapes (6 bytes
for a 3-byte CJK character, 12 for an emoji) and ``", "``/``": "`` separators. So a 6 MB
output was refused as 12 MB, and the error named a byte count the output did not have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.outputs import MAX_OUTPUT_BYTES, is_ref, output_problem
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_step_output_limit_measured_as_stored_utf8"
CJK = 2_000_000  # 6,000,002 bytes of UTF-8 JSON; 12,000,002 as \u escapes
ZEROS = 4_000_000  # "[0,0,...]": 8,000,001 bytes compact; 12,000,000 with ", "


def japanese(event: dict[str, Any]) -> str:
    return "中" * CJK


def zeros(event: dict[str, Any]) -> list[int]:
    return [0] * ZEROS


def _run(tmp_path: Path, function: str) -> Any:
    wf = {"name": "big_out", "steps": [{"id": "s", "type": "lambda", "function": function}]}
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=tmp_path / ".podium") as rt:
        view = rt.run(wf)
    return {s.step: s for s in view.steps}["s"]


def test_a_6_mb_cjk_output_is_within_the_10_mib_limit(tmp_path: Path) -> None:
    """A step returning 2,000,000 CJK characters (6 MB as UTF-8 JSON, well under the
    documented 10 MiB) failed with Podium.OutputError "output is 12,000,002 bytes"; it
    succeeds now, its output stored in Payloads by reference."""
    step = _run(tmp_path, f"{HERE}:japanese")
    assert step.status is StepStatus.SUCCEEDED, (step.status, step.error)
    assert is_ref(step.output) and step.output["bytes"] == 3 * CJK + 2 <= MAX_OUTPUT_BYTES


def test_an_8_mb_list_is_measured_as_compact_json(tmp_path: Path) -> None:
    """A step returning 4,000,000 zeros (8,000,001 bytes as the compact JSON Podium
    stores) failed with "output is 12,000,000 bytes": the ", " separators json.dumps
    adds by default were counted. It succeeds now, as the stored size is under 10 MiB."""
    step = _run(tmp_path, f"{HERE}:zeros")
    assert step.status is StepStatus.SUCCEEDED, (step.status, step.error)
    assert is_ref(step.output) and step.output["bytes"] == 2 * ZEROS + 1


def test_an_output_over_the_limit_names_its_stored_size() -> None:
    """The refusal of an output over 10 MiB named its escaped size (3,600,000 CJK
    characters as "21,600,002 bytes"); it names the UTF-8 size it would be stored as.
    The same check serves an http step's body and a while loop's final state."""
    text = "中" * 3_600_000
    for what in ("output", "the response body", "its output (the final state)"):
        problem, _ = output_problem(text, what)
        assert problem is not None
        assert problem.startswith(f"{what} is 10,800,002 bytes; the limit is 10,485,760"), problem
