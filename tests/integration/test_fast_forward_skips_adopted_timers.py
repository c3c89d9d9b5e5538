"""``podium run`` fast-forwarded through the timers of other runs it adopted from the
home; now it jumps only to the timers of the run it waits for.

``podium run`` runs on virtual time (FastForwardClock): when nothing of its own is due,
it jumps to its next timer (local/runtime.py ``pump``), except while *its* run waits for
a person or an outside system (``_jumps``: a callback, an approval, signals). But a
runtime on the home first adopts every unowned message (``Owners.adopt`` at start and
while it waits): the timers of runs that a stopped ``podium run`` or ``podium dev``
left on the home ("podium run (or podium dev) on this home resumes them", as an
interrupted ``podium run`` says). Its pump then jumped to those timers too, run or no
run of its own, and kept jumping until its queues were empty: an approval left waiting
for a day was timed out at once by an unrelated ``podium run etl.yaml`` (likewise a
``sleep`` ended early, a run's ``timeout`` fired early). Now, once it adopted anything,
virtual time jumps only to timers of the run's tree (and of the runs holding its
workflow's slots while it is queued); with only other runs' timers left it stops once
its run is over, as the real-time path does, and otherwise waits for them in real time.

Both processes are played in turn in this one (the first stops, as a Ctrl-C'd
``podium run`` or ``podium dev`` does, leaving its messages unowned); both on the
default virtual clock, so the test waits for nothing.
"""

from __future__ import annotations

from pathlib import Path

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

RELEASE = {
    "name": "release_wait",
    "steps": [
        {"id": "approve", "type": "approval", "message": "ship it?", "timeout": 86_400},
        {"id": "ship", "type": "noop", "depends_on": ["approve"]},
    ],
}
ETL = {"name": "etl_ff", "steps": [{"id": "load", "type": "noop"}]}


def test_another_podium_run_leaves_a_waiting_approval_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as first:  # podium run release.yaml
        first.push(RELEASE)
        waiting = first.start_run("release_wait").run_id
        first.pump(wait=False)  # the approval waits (for a day at most)
        assert first.store.get_step(waiting, "approve").status is StepStatus.RUNNING  # type: ignore[union-attr]
    # ... interrupted: its approval's timer stays on the home, unowned.

    with LocalRuntime(store="sqlite", home=home) as second:  # podium run etl.yaml
        view = second.run(ETL)
        assert view.run.status is RunStatus.SUCCEEDED
        run = second.store.get_run(waiting)
        step = second.store.get_step(waiting, "approve")
        assert step is not None
        assert (run.status, step.status) == (RunStatus.RUNNING, StepStatus.RUNNING), (
            f"an unrelated podium run jumped the other run's clock a day ahead: it is"
            f" {run.status.value}, its approval {step.status.value} ({step.error})"
        )
