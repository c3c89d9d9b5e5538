"""Step status events of an attempt whose start is given back (its look-up throttled:
service/attempts.give_back). A give-back is the same attempt going on, on no retry: the
bus says RUNNING once for it, then how it ended, as for any attempt. Before, each claim
of a given-back attempt said RUNNING again (the same run, step, attempt and status: a
consumer de-duplicating on those saw one, whatever happened between), and a run stopped
while its step was given back said STOPPED for no attempt.

On the memory store; a fake job backend plays the throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.adapters.events import MemoryEvents
from podium.core.engine.external import JobOutcome, Phase, api_error, running
from podium.core.engine.retry import MAX_START_GIVE_BACKS
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import JobRequest
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run
from podium.service.step_events import STEP_STATUS_CHANGE


class ThrottledJobs:
    """The first ``throttled`` starts do nothing (NOT_STARTED, as a Batch start whose
    ListJobs was throttled); a submitted job has ended by the time it is looked for,
    unless its attempt key is in ``running``. ``stopped`` lists the stops asked for."""

    def __init__(self, throttled: int) -> None:
        self.throttled = throttled
        self.submitted: list[str] = []
        self.running: set[str] = set()
        self.stopped: list[str] = []

    def start(self, request: JobRequest) -> JobOutcome:
        if self.throttled > 0:
            self.throttled -= 1
            error = api_error("Fake ListJobs", "ThrottlingException", "(nothing was started)")
            return JobOutcome(Phase.NOT_STARTED, error=error)
        if request.key not in self.submitted:
            self.submitted.append(request.key)
        return running(request.key)

    def find(self, request: JobRequest) -> JobOutcome | None:
        if request.key not in self.submitted:
            return None
        if request.key in self.running:
            return running(request.key)
        return JobOutcome(Phase.SUCCEEDED, request.key)

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        return outcome

    def stop(self, request: JobRequest, reason: str) -> None:
        self.stopped.append(request.key)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


JOB = {"type": "batch_job", "job_queue": "q", "job_definition": "d"}


def workflow(**job: Any) -> dict[str, Any]:
    return {"name": "jobs", "step_events": "all", "steps": [{"id": "job", **JOB, **job}]}


def job_events(rt: LocalRuntime, run_id: str) -> list[tuple[str, int | None]]:
    assert isinstance(rt.services.events, MemoryEvents)
    return [
        (e["detail"]["status"], e["detail"]["attempt"])
        for e in rt.services.events.published
        if e["detail-type"] == STEP_STATUS_CHANGE
        and e["detail"]["run_id"] == run_id
        and e["detail"]["step"] == "job"
    ]


def test_a_given_back_attempt_says_running_once_then_how_it_ended(rt: LocalRuntime) -> None:
    jobs = ThrottledJobs(throttled=3)
    rt.services.jobs = {"batch_job": jobs}
    rt.push(workflow(retries=0))
    run = rt.start_run("jobs")
    rt.pump()
    assert rt.services.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
    given = [e for e in rt.services.store.list_events(run.run_id) if e.kind == "give_back"]
    assert len(given) == 3  # the timeline says each give-back; the bus does not
    assert job_events(rt, run.run_id) == [("RUNNING", 1), ("SUCCEEDED", 1)]


def test_an_attempt_given_back_past_its_cap_publishes_as_a_retried_one(rt: LocalRuntime) -> None:
    """Its give-backs used up, the attempt fails as a platform error: RETRY_WAIT, then
    the next attempt says RUNNING once under its own number, as every retry does."""
    jobs = ThrottledJobs(throttled=MAX_START_GIVE_BACKS + 1)
    rt.services.jobs = {"batch_job": jobs}
    rt.push(workflow())
    run = rt.start_run("jobs")
    rt.pump()
    record = rt.services.store.get_step(run.run_id, "job")
    assert record is not None and (record.status, record.attempt) == (StepStatus.SUCCEEDED, 2)
    assert job_events(rt, run.run_id) == [
        ("RUNNING", 1),
        ("RETRY_WAIT", 1),
        ("RUNNING", 2),
        ("SUCCEEDED", 2),
    ]


def test_a_run_stopped_while_its_step_is_given_back_says_that_attempt_stopped(
    rt: LocalRuntime,
) -> None:
    jobs = ThrottledJobs(throttled=1)
    rt.services.jobs = {"batch_job": jobs}
    rt.push(workflow())
    run = rt.start_run("jobs")
    rt.pump(wait=False)
    record = rt.services.store.get_step(run.run_id, "job")
    assert record is not None and (record.status, record.attempt) == (StepStatus.READY, 0)
    stop_run(rt.services, run.run_id, "stopped by a test")
    rt.pump()
    record = rt.services.store.get_step(run.run_id, "job")
    assert record is not None and record.status is StepStatus.STOPPED
    assert job_events(rt, run.run_id) == [("RUNNING", 1), ("STOPPED", 1)]
    # Its work is asked to stop, as a running attempt's is (nothing there: harmless).
    assert jobs.stopped == [f"{run.run_id}/job/1"] and jobs.submitted == []


def test_a_run_stopped_while_its_given_back_step_waits_for_a_permit_says_it_stopped(
    rt: LocalRuntime,
) -> None:
    """Given back, its permit went to the next in line; claimed again, it queues for the
    key, and its run is stopped there (the queue's way out: ``Permits.abandon``)."""
    jobs = ThrottledJobs(throttled=1)
    rt.services.jobs = {"batch_job": jobs}
    rt.push({**workflow(concurrency={"key": "gpu", "limit": 1}), "run_strategy": {"parallel": 2}})
    first, second = rt.start_run("jobs"), rt.start_run("jobs")
    jobs.running.add(f"{second.run_id}/job/1")  # the second's job runs on, holding the key
    rt.pump(wait=False)
    rt.clock.advance(10 * 60_000)  # type: ignore[union-attr]  # past the first's backoff
    rt.pump(wait=False)
    record = rt.services.store.get_step(first.run_id, "job")
    assert record is not None and record.status is StepStatus.WAITING_FOR_PERMITS
    stop_run(rt.services, first.run_id, "stopped by a test")
    record = rt.services.store.get_step(first.run_id, "job")
    assert record is not None and record.status is StepStatus.STOPPED
    assert job_events(rt, first.run_id) == [("RUNNING", 1), ("STOPPED", 1)]
    assert f"{first.run_id}/job/1" in jobs.stopped
    assert job_events(rt, second.run_id) == [("RUNNING", 1)]
