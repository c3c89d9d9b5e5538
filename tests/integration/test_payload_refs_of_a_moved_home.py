"""The local home's payload references were absolute.

FilePayloads.put (adapters/payloads.py) returned ``path.resolve().as_uri()``, the file's
absolute ``file://`` URI, and that is what the step item (and a run's params, a loop's
space, an iteration's values, a callback's result) kept. The home is otherwise a
self-contained directory (``.podium`` in the project: its database and its
``payloads/``). Renaming or moving the project (or mounting the home elsewhere: a
container, another checkout, a CI cache) made every big value of every run "gone
(expired, or deleted)" though its file was right there: a run in progress could not read
its upstream outputs, the console showed them missing, and a restart took over dangling
references.

Now a reference names its file relative to the home's ``payloads/`` (``file:<path>``),
read under the directory the home is in now; an absolute one written before is read by
its part after ``/payloads/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from podium.adapters.clock import ManualClock
from podium.core.engine.outputs import is_ref
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.console_views import step_detail
from tests.integration.test_payload_refs_missing import WF as MISSING_WF
from tests.integration.test_payload_refs_missing import big

# The missing-payload test's workflow: a writes a big output, w sleeps, b reads it.
WF = {**MISSING_WF, "name": "moved"}


def test_a_home_moved_with_its_project_still_reads_its_payloads(tmp_path: Path) -> None:
    clock = ManualClock()
    with LocalRuntime(store="sqlite", clock=clock, home=tmp_path / "etl" / ".podium") as rt:
        rt.push(WF)
        run_id = rt.start_run("moved").run_id
        rt.pump(advance_time=False)  # a has ended; w sleeps (Ctrl-C here)
        assert is_ref({s.step: s for s in rt.describe(run_id).steps}["a"].output)
    shutil.move(tmp_path / "etl", tmp_path / "etl-pipeline")  # the project renamed
    with LocalRuntime(
        store="sqlite", clock=clock, home=tmp_path / "etl-pipeline" / ".podium"
    ) as rt:
        shown = step_detail(rt.services, run_id, "a")["step"]["output"]
        rt.pump()
        view = rt.describe(run_id)
    # Before: {"$payload": "file://.../etl/.podium/...", "bytes": ..., "missing": "the
    # payload is gone (expired, or deleted)"}, and b's worker raised PayloadNotFound.
    assert shown == big({}), str(shown)[:200]
    b = {s.step: s for s in view.steps}["b"]
    assert (view.run.status, b.status, b.output) == (
        RunStatus.SUCCEEDED,
        StepStatus.SUCCEEDED,
        {"n": 200},  # b echoes what it read: the 200 rows of a's output
    )
