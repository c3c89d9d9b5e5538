"""External work (batch_job, ecs_task, glue_job, sfn_execution) and a claim message
delivered twice: the second delivery's look (``completions.resume_waiting`` -> the
runtime's ``poll``) must not decide the start was lost while the worker that claimed
the attempt may still be starting it.

A duplicate delivery handled between the first worker's look-up and its submit found no
work under the attempt key, failed attempt 1 as a platform error ("not found") and
retried it as attempt 2; the first worker then submitted attempt 1's job anyway: two
jobs ran for one step, and attempt 1's was never stopped (its attempt had ended before
the job existed). Each attempt started once, so ``double_invoke`` (per run, step,
attempt) did not see it. Now (runtimes/external.py ``poll``) work not found while the
claim is younger than a worker's lease (``ctx.lease_ms``) is polled until then, as the
callback runtime does, and only then is a lost start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.external import JobOutcome, running
from podium.core.ports import JobRequest
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.execute import execute


class Jobs:
    """A Batch-like backend: ``start`` looks the key up, then submits; ``during`` runs
    between the two (another delivery racing this start)."""

    def __init__(self) -> None:
        self.started: dict[str, str] = {}
        self.submitted: list[str] = []
        self.stopped: list[str] = []
        self.during: Callable[[], Any] | None = None

    def start(self, request: JobRequest) -> JobOutcome:
        found = self.find(request)
        if found is not None:
            return found
        if self.during is not None:
            during, self.during = self.during, None
            during()
        self.submitted.append(request.key)
        self.started[request.key] = f"job-{len(self.started) + 1}"
        return running(self.started[request.key])

    def find(self, request: JobRequest) -> JobOutcome | None:
        handle = self.started.get(request.key)
        return None if handle is None else running(handle)

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        return outcome

    def stop(self, request: JobRequest, reason: str) -> None:
        self.stopped.append(request.key)


def test_a_duplicate_claim_during_an_external_start_leaves_one_job() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        jobs = Jobs()
        rt.services.jobs = {"batch_job": jobs}
        step = {"id": "j", "type": "batch_job", "job_queue": "q", "job_definition": "d"}
        rt.push({"name": "jobs", "steps": [{**step, "retries": 2}]})
        run_id = rt.start_run("jobs").run_id
        jobs.during = lambda: execute(rt.services, messages.Exec(run_id, "j", 1))
        rt.pump(wait=False)
        record = rt.store.get_step(run_id, "j")
        assert record is not None
        # Every job submitted is the running attempt's, or was stopped.
        orphans = [
            key
            for key in jobs.submitted
            if key != f"{run_id}/j/{record.attempt}" and key not in jobs.stopped
        ]
        assert orphans == []
        assert (record.status, record.attempt) == (record.status.RUNNING, 1)
