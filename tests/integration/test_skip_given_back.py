"""An operator's skip of a step whose start was given back (its look-up throttled, or
an ECS RunTask accepted but answered throttled: service/attempts.give_back). The given
attempt said RUNNING, and its work may be running: as a stop does, the skip says the
attempt's end under its number and stops its work. Before, it published nothing (the
attempt said RUNNING and never ended on the bus) and left the work running.

On the memory store; the give-back events tests' fake job backend plays the throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, StepAction, step_action
from tests.integration.test_jobs_give_back_events import JOB, ThrottledJobs, job_events


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def workflow(**job: Any) -> dict[str, Any]:
    return {
        "name": "jobs",
        "step_events": "all",
        "steps": [
            {"id": "job", **JOB, **job},
            {"id": "after", "type": "noop", "depends_on": ["job"]},
        ],
    }


def skip(rt: LocalRuntime, run_id: str) -> None:
    result = step_action(rt.services, run_id, "job", StepAction.SKIP, Actor("tester", "broken"))
    assert result.status == StepStatus.SKIPPED.value, result


def test_a_skip_of_a_given_back_step_says_that_attempt_skipped_and_stops_its_work(
    rt: LocalRuntime,
) -> None:
    jobs = ThrottledJobs(throttled=1)
    rt.services.jobs = {"batch_job": jobs}
    rt.push(workflow())
    run = rt.start_run("jobs")
    rt.pump(wait=False)
    record = rt.services.store.get_step(run.run_id, "job")
    assert record is not None and (record.status, record.attempt) == (StepStatus.READY, 0)
    skip(rt, run.run_id)
    rt.pump()
    record = rt.services.store.get_step(run.run_id, "job")
    assert record is not None and record.status is StepStatus.SKIPPED
    assert job_events(rt, run.run_id) == [("RUNNING", 1), ("SKIPPED", 1)]
    # Its work is asked to stop, as a running attempt's is (nothing there: harmless).
    assert jobs.stopped == [f"{run.run_id}/job/1"] and jobs.submitted == []
    assert rt.services.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_a_skip_of_a_given_back_step_waiting_for_a_permit_says_it_skipped(
    rt: LocalRuntime,
) -> None:
    """Given back, its permit went to the next in line; claimed again, it queues for the
    key, and is skipped there (the queue's way out: ``Permits.abandon``)."""
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
    skip(rt, first.run_id)
    record = rt.services.store.get_step(first.run_id, "job")
    assert record is not None and record.status is StepStatus.SKIPPED
    assert job_events(rt, first.run_id) == [("RUNNING", 1), ("SKIPPED", 1)]
    assert jobs.stopped == [f"{first.run_id}/job/1"]
    assert job_events(rt, second.run_id) == [("RUNNING", 1)]


def test_a_skip_of_a_step_never_claimed_says_nothing_and_stops_nothing(
    rt: LocalRuntime,
) -> None:
    """The unchanged case: a READY step not given back started nothing and said nothing."""
    jobs = ThrottledJobs(throttled=0)
    rt.services.jobs = {"batch_job": jobs}
    rt.push(workflow())
    run = rt.start_run("jobs")
    record = rt.services.store.get_step(run.run_id, "job")
    if record is None:  # its start not run yet: make the roots
        from podium.service.advance import start_roots

        start_roots(rt.services, run.run_id)
    skip(rt, run.run_id)
    rt.pump()
    assert job_events(rt, run.run_id) == []
    assert jobs.stopped == [] and jobs.submitted == []
    assert rt.services.store.get_run(run.run_id).status is RunStatus.SUCCEEDED
