"""A small output that looked like a payload reference was read as one.

``stored`` (service/attempt_records.py) kept an output of at most 8 KiB in the step
item as it was, and every reader (service/bindings.py resolve_output, the console's
_shown_value, a restart's _own_copy) treats any dict whose keys are exactly
``{"$payload", "bytes"}`` as a reference and reads the object it names. A step's code
chooses its output, so it could name any object the engine can read: another run's
payload, a file on the machine running ``podium dev`` (FilePayloads.get opened any
``file://`` path), an object in any bucket the engine's role may read (S3Payloads.get
took the bucket from the reference). Downstream steps and the console then saw that
object instead of the step's output.

Now an output shaped like a reference is written to Payloads however small (so what the
item keeps is a true reference, to the output itself), and ``get`` reads only what its
own store writes: its bucket and prefix, its home's ``payloads/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.console_views import step_detail

HERE = "tests.integration.test_payload_ref_lookalike_output"
_ELSEWHERE: dict[str, str] = {}


def looks_like_a_ref(event: dict[str, Any]) -> dict[str, Any]:
    return {"$payload": _ELSEWHERE["uri"], "bytes": 5}


def echo(event: dict[str, Any]) -> Any:
    return event["payload"]


WF = {
    "name": "lookalike",
    "steps": [
        {"id": "a", "type": "lambda", "function": f"{HERE}:looks_like_a_ref"},
        {
            "id": "b",
            "type": "lambda",
            "function": f"{HERE}:echo",
            "depends_on": ["a"],
            "payload": {"v": "${steps.a.output}"},
        },
    ],
}


def test_an_output_shaped_like_a_reference_is_the_output_not_the_object_it_names(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "not_a_payload.json"  # outside the home: no run wrote it
    secret.write_text(json.dumps({"secret": "s3cr3t"}))
    _ELSEWHERE["uri"] = secret.resolve().as_uri()
    returned = {"$payload": _ELSEWHERE["uri"], "bytes": 5}
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=tmp_path / ".podium") as rt:
        view = rt.run(WF)
        shown = step_detail(rt.services, view.run.run_id, "a")["step"]["output"]
    steps = {s.step: s for s in view.steps}
    assert view.run.status is RunStatus.SUCCEEDED
    # Before, b got {"v": {"secret": "s3cr3t"}}: the file a's output named, read by the engine.
    assert steps["b"].output == {"v": returned}
    assert shown == returned  # the console shows the file's content as a's output
