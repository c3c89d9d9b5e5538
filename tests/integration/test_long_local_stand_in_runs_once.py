"""A local stand-in of an external step (podium.toml's ``[batch_jobs]``, ``[ecs_tasks]``,
``[glue_jobs]``) that ran longer than the work queue's visibility timeout was started a
second time; now the redelivered claim finds it running and the attempt polls on.

Locally the stand-in runs *inside* the attempt's start, on the worker that claimed it
(adapters/jobs/local.py), for as long as the job takes: a feature build or a training
command of 20 minutes is what these steps are for. Its work message was received with
the home queue's visibility timeout (960 s, local/runtime.py), so after 16 minutes the
message was visible again and another worker (``podium dev`` runs at least four; so does
``podium run`` with workers) received it. The claim found the step RUNNING and asked the
runtime to look again (completions.resume_waiting, since an external runtime is not
``synchronous``); ``LocalJobs.find`` knew only jobs that had ended, so the look found no
work, and past the 16-minute worker lease that was "the work was not found": the attempt
failed as a platform error and was retried, and the retry started the stand-in a second
time while the first was still running. The first one's result was then dropped. Now
``LocalJobs`` records the job RUNNING under its attempt key before it runs it.

Driven on the SQLite home with a manual clock: the claim's worker runs the stand-in on a
thread; while it runs, 17 minutes pass and the other worker delivers what is due.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.handlers import advance as advance_handler
from podium.handlers import work as work_handler
from podium.local.runtime import LocalRuntime, _Context
from podium.local.stand_ins import StandIns

HERE = "tests.integration.test_long_local_stand_in_runs_once"
CALLS: Counter[str] = Counter()
ENTERED = threading.Event()
RELEASE = threading.Event()


def features(event: dict[str, Any]) -> dict[str, Any]:
    """The batch job's stand-in: a long feature build (it waits for the test)."""
    CALLS["features"] += 1
    if CALLS["features"] == 1:  # the first job goes on until the test releases it
        ENTERED.set()
        assert RELEASE.wait(20), "the test never released the stand-in"
    return {"rows": 1234, "call": CALLS["features"]}


def test_a_long_local_batch_job_is_not_started_again_by_its_redelivered_message(
    tmp_path: Path,
) -> None:
    CALLS.clear()
    ENTERED.clear()
    RELEASE.clear()
    clock = ManualClock()
    stand_ins = StandIns(jobs={"batch_job": {"features-def": f"{HERE}:features"}})
    with LocalRuntime(
        store="sqlite", home=tmp_path / "home", clock=clock, stand_ins=stand_ins
    ) as rt:
        rt.push(
            {
                "name": "nightly_features",
                "steps": [
                    {
                        "id": "features",
                        "type": "batch_job",
                        "job_queue": "cpu",
                        "job_definition": "features-def",
                    }
                ],
            }
        )
        run_id = rt.start_run("nightly_features").run_id
        context = _Context()
        rt._deliver(rt.event_queue, advance_handler.handler, context)  # the run's start
        claim = rt.work_queue.receive(1)  # worker 1 takes the step's work message
        assert len(claim) == 1
        worker_1 = threading.Thread(
            target=rt._handle, args=(rt.work_queue, work_handler.handler, claim, context)
        )
        worker_1.start()
        try:
            assert ENTERED.wait(10)
            # The job runs for 17 minutes: its message is visible again after 16, and
            # another worker delivers whatever is due meanwhile.
            for _ in range(17):
                clock.advance(60_000)
                rt.pump(wait=False)
            during = rt.store.get_step(run_id, "features")
            assert during is not None
        finally:
            RELEASE.set()
            worker_1.join(20)
        assert not worker_1.is_alive()
        rt.pump(wait=False)

        assert (during.status, during.attempt) == (StepStatus.RUNNING, 1), (
            f"while its job still ran, the step became {during.status.value} at attempt"
            f" {during.attempt} ({during.error})"
        )
        after = rt.store.get_step(run_id, "features")
        assert after is not None
        assert CALLS["features"] == 1, f"the stand-in ran {CALLS['features']} times"
        assert (after.status, after.attempt) == (StepStatus.SUCCEEDED, 1), (
            f"{after.status.value} at attempt {after.attempt}: the first job's result was"
            f" dropped ({after.error})"
        )
