"""A local state machine stand-in that returned a number failed as an "exit code", or
lost its output.

docs/workflow-language.md (Local stand-ins): ``Reconcile = "recon_local:run"  # gets
"input"; its return value is the step's output``, and "A state machine's stand-in
returns the execution's output, which becomes the step's output." An execution's output
is any JSON value, a number included (a count of rows reconciled). But
adapters/jobs/local.LocalJobs._call read every int a callable returned as an exit code,
for sfn_execution too: a stand-in returning 7 failed the step ("exited with code 7",
Podium.UserError), and one returning 0 succeeded with output null (``_ended`` read
``result`` from an ``extra`` that held none).

Expected: for sfn_execution the callable's return value is the output, whatever its
JSON type (an exception is still the failure).
"""

from __future__ import annotations

import json
from pathlib import Path

from podium.core.engine.status import StepStatus
from podium.testing import run_workflow


def test_a_state_machine_stand_in_returning_a_number_gives_that_output(tmp_path: Path) -> None:
    directory = tmp_path / "wf_sfn_number"
    directory.mkdir()
    (directory / "podium.toml").write_text(
        '[state_machines]\nCount = "sfn_number_output:count"\nNone = "sfn_number_output:none"\n'
    )
    (directory / "sfn_number_output.py").write_text(
        "def count(event):\n    return 7\ndef none(event):\n    return 0\n"
    )
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:"
    path = directory / "workflow.json"
    path.write_text(
        json.dumps(
            {
                "name": "sfn_number_output",
                "steps": [
                    {"id": "count", "type": "sfn_execution", "state_machine": arn + "Count"},
                    {"id": "zero", "type": "sfn_execution", "state_machine": arn + "None"},
                ],
            }
        )
    )
    view = run_workflow(path)
    steps = {s.step: s for s in view.steps}
    # Was: FAILED, "exited with code 7".
    assert steps["count"].status is StepStatus.SUCCEEDED, steps["count"].error
    assert steps["count"].output == 7
    # Was: SUCCEEDED with output None.
    assert steps["zero"].output == 0
