"""A foreach whose stored iterations were gone hung its run.

A foreach keeps its iterations (the rendered ``over``) in its step item, or, past 512
bytes, as a payload (service/loops.py ``stored_space``). A worker that had not cached
them read that payload back bare (``space_of``), so an expired one (S3 lifecycle) or a
file deleted from the home raised PayloadNotFound out of the handler on every delivery
of the loop's messages, as a step's template once did (test_payload_refs_missing.py).
Now it is the same expression error that names the value: the loop step fails at once,
and its run with it.
"""

from __future__ import annotations

from pathlib import Path

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

WF = {
    "name": "loop_space_gone",
    "steps": [
        {
            "id": "per",
            "type": "foreach",
            "over": {"day": [f"day-{d:03d}" for d in range(60)]},  # ~700 bytes: a payload
            "concurrency": 1,
            "steps": [{"id": "nap", "type": "sleep", "seconds": 60}],
        }
    ],
}


def test_a_foreach_whose_stored_iterations_are_gone_fails_naming_them(tmp_path: Path) -> None:
    home = tmp_path / ".podium"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", clock=clock, home=home) as rt:
        rt.push(WF)
        run_id = rt.start_run("loop_space_gone").run_id
        rt.pump(advance_time=False)  # the first iteration sleeps
    space = home / "payloads" / run_id / "per" / "loop.json"
    assert space.exists()
    space.unlink()  # expired (S3 lifecycle), deleted by hand
    # Another process (a new container: nothing cached) carries the loop on.
    with LocalRuntime(store="sqlite", clock=clock, home=home) as rt:
        rt.pump()
        view = rt.describe(run_id)
    per = {s.step: s for s in view.steps}["per"]
    assert per.status is StepStatus.FAILED, (per.status, per.error)
    assert per.error is not None and "payload" in per.error.lower(), per.error
    assert "not found" in per.error.lower(), per.error
    assert view.run.status is RunStatus.FAILED
