"""A step resumed past its breakpoint whose start is given back (its look-up throttled:
service/attempts.give_back) is the same attempt when it is claimed again: it passes its
breakpoint, and is not held there a second time. The claim of a step with a concurrency
key replaced the resume's marker (the step's ``reason``), so before the fix the claim
after the give-back's backoff stopped at the breakpoint again. A released claim
(``execute.release_claim``: its worker ran out of time) keeps the marker too.

On the memory store and the SQLite home; a fake job backend plays the throttling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import StepAction
from podium.core.engine.external import JobOutcome, Phase, api_error, running
from podium.core.engine.retry import give_backs_counter
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import JobRequest
from podium.local.runtime import LocalRuntime
from podium.service import messages
from podium.service.actions import Actor, run_action, step_action
from podium.service.attempts import Claimed
from podium.service.breakpoints import clear_breakpoints, set_breakpoint
from podium.service.execute import execute, release_claim
from podium.service.pausing import BREAKPOINT, resumed_marker

ME = Actor("alice", "testing")


class ThrottledJobs:
    """A job service whose first ``throttled`` starts do nothing (their look-up was
    throttled: NOT_STARTED, as adapters/jobs/batch.py says); then a start submits, and
    the job has ended by the time it is looked for."""

    def __init__(self, throttled: int) -> None:
        self.throttled = throttled
        self.starts: list[str] = []  # every start asked for, by attempt key
        self.submitted: list[str] = []

    def start(self, request: JobRequest) -> JobOutcome:
        self.starts.append(request.key)
        if self.throttled > 0:
            self.throttled -= 1
            error = api_error("Fake ListJobs", "ThrottlingException", "(nothing was started)")
            return JobOutcome(Phase.NOT_STARTED, error=error)
        if request.key not in self.submitted:
            self.submitted.append(request.key)
        return running(f"job-{len(self.submitted)}")

    def find(self, request: JobRequest) -> JobOutcome | None:
        if request.key not in self.submitted:
            return None
        return JobOutcome(Phase.SUCCEEDED, f"job-{self.submitted.index(request.key) + 1}")

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        return outcome

    def stop(self, request: JobRequest, reason: str) -> None:
        return None


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = ":memory:" if request.param == "sqlite" else None
    with LocalRuntime(store=request.param, home=home, clock=ManualClock()) as runtime:
        yield runtime


def job_workflow(*, keyed: bool) -> dict[str, Any]:
    job: dict[str, Any] = {
        "id": "job",
        "type": "batch_job",
        "job_queue": "q",
        "job_definition": "d",
        "retries": 0,
        "depends_on": ["first"],
    }
    if keyed:
        job["concurrency"] = {"key": "gpu", "limit": 1}
    return {"name": "bp_jobs", "steps": [{"id": "first", "type": "noop"}, job]}


def job_record(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.services.store.get_step(run_id, "job")
    assert record is not None
    return record


def held_at_breakpoint(rt: LocalRuntime, jobs: ThrottledJobs, *, keyed: bool) -> str:
    rt.services.jobs = {"batch_job": jobs}
    rt.push(job_workflow(keyed=keyed))
    set_breakpoint(rt.services, "bp_jobs", "job")
    run = rt.start_run("bp_jobs")
    rt.pump(wait=False)
    record = job_record(rt, run.run_id)
    assert (record.status, record.reason) == (StepStatus.PAUSED, BREAKPOINT)
    return run.run_id


@pytest.mark.parametrize("keyed", [True, False], ids=["concurrency_key", "no_key"])
def test_a_step_resumed_past_its_breakpoint_and_given_back_is_not_held_again(
    rt: LocalRuntime, keyed: bool
) -> None:
    jobs = ThrottledJobs(throttled=2)
    run_id = held_at_breakpoint(rt, jobs, keyed=keyed)
    step_action(rt.services, run_id, "job", StepAction.RESUME, ME)  # this attempt passes
    rt.pump(wait=False)  # claimed, its start given back: READY again before attempt 1
    record = job_record(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert record.retry_counts == {give_backs_counter(1): 1}
    rt.pump()  # the backoffs: given back once more, then submitted, and found ended
    record = job_record(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.SUCCEEDED, 1)
    assert rt.services.store.get_run(run_id).status is RunStatus.SUCCEEDED
    key = f"{run_id}/job/1"
    assert jobs.starts == [key, key, key] and jobs.submitted == [key]
    # Never held a second time: nothing on the timeline but the give-backs.
    kinds = [e.kind for e in rt.services.store.list_events(run_id) if e.step == "job"]
    assert kinds.count("give_back") == 2


def test_a_given_back_attempt_held_by_a_run_pause_passes_its_breakpoint_on_resume(
    rt: LocalRuntime,
) -> None:
    """Given back, then its run paused before its claim came due: the run pause's hold
    replaced whatever the step said, and its release must still let the attempt pass."""
    jobs = ThrottledJobs(throttled=1)
    run_id = held_at_breakpoint(rt, jobs, keyed=True)
    step_action(rt.services, run_id, "job", StepAction.RESUME, ME)
    rt.pump(wait=False)
    assert job_record(rt, run_id).status is StepStatus.READY  # given back
    from podium.core.engine.actions import RunAction

    run_action(rt.services, run_id, RunAction.PAUSE, ME)
    rt.pump()  # the claim comes due in a paused run: held
    record = job_record(rt, run_id)
    assert record.status is StepStatus.PAUSED and record.reason != BREAKPOINT
    run_action(rt.services, run_id, RunAction.RESUME, ME)
    rt.pump()
    assert job_record(rt, run_id).status is StepStatus.SUCCEEDED
    assert rt.services.store.get_run(run_id).status is RunStatus.SUCCEEDED


def test_a_breakpoint_still_holds_the_retry_of_a_given_back_attempt(rt: LocalRuntime) -> None:
    """The pass belongs to the attempt given back: its give-backs used up, it fails, and
    its retry (a new attempt) stops at the breakpoint as every attempt does."""
    jobs = ThrottledJobs(throttled=1_000)
    rt.services.jobs = {"batch_job": jobs}
    flow = job_workflow(keyed=True)
    flow["steps"][1] = {**flow["steps"][1], "retries": 1, "retry_delay_seconds": 1}
    rt.push(flow)
    set_breakpoint(rt.services, "bp_jobs", "job")
    run = rt.start_run("bp_jobs")
    rt.pump(wait=False)
    step_action(rt.services, run.run_id, "job", StepAction.RESUME, ME)
    rt.pump()
    record = job_record(rt, run.run_id)
    # Attempt 1 was given back its 8 times and failed; attempt 2 is held before it starts
    # (its platform retry; the user's "retries: 1" is not the budget a platform error uses).
    assert (record.status, record.reason, record.attempt) == (StepStatus.PAUSED, BREAKPOINT, 1)
    assert all(key.endswith("/job/1") for key in jobs.starts)
    clear_breakpoints(rt.services, "bp_jobs")
    jobs.throttled = 0
    rt.pump()
    assert job_record(rt, run.run_id).status is StepStatus.SUCCEEDED


def test_a_released_claim_keeps_its_pass_past_the_breakpoint(rt: LocalRuntime) -> None:
    """A worker out of time gives back a claim it has not started (``release_claim``):
    claimed again, the attempt still passes the breakpoint it was resumed past."""
    jobs = ThrottledJobs(throttled=0)
    run_id = held_at_breakpoint(rt, jobs, keyed=False)
    step_action(rt.services, run_id, "job", StepAction.RESUME, ME)
    run = rt.services.store.get_run(run_id)
    # The resume's work message, claimed by hand as a worker would (no key: the claim
    # keeps the step's reason), then released before it starts.
    claimed = rt.services.store.transition_step(
        run_id,
        "job",
        expected=frozenset({StepStatus.READY}),
        attempt=0,
        to=StepStatus.RUNNING,
        changes={"attempt": 1, "started_at": rt.services.now(), "lease_until": None},
    )
    assert claimed.reason == resumed_marker(1)
    release_claim(rt.services, Claimed(run, "job", 1, rt.services.now()))
    record = job_record(rt, run_id)
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    execute(rt.services, messages.Exec(run_id, "job", 1), inline=False)
    assert job_record(rt, run_id).status is StepStatus.RUNNING  # not held again
    rt.pump()
    assert rt.services.store.get_run(run_id).status is RunStatus.SUCCEEDED
    assert jobs.submitted == [f"{run_id}/job/1"]
