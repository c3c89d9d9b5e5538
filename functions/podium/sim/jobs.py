"""A simulated job service for the external step types (Batch-like): work is named by
the attempt key, and a start looks the key up before it submits, as the Batch and Glue
backends do (adapters/jobs/). In a faulty world that look-up is throttled at random, so
starts are given back (``GiveBack``: READY again, permits released, the same attempt
claimed again after a backoff) and, past MAX_START_GIVE_BACKS, fail as platform errors.
Now and then a submit is accepted and its answer is a throttle all the same (ECS RunTask
retried by botocore under its clientToken, the retry throttled): that start is given
back too, with its job going, and asked again under the same key finds that job.

Every submit is counted as an invocation of its attempt (``double_invoke``: a job
submitted twice for one attempt); work is found again only by its key, so an attempt
claimed again under another number would submit a second job. Each job submitted must
be found again by its key (a poll, or the look-up of the same attempt's next start) or
stopped: one that nothing asks about again is work Podium started and lost
(``job_lost``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podium.core.engine.external import JobOutcome, Phase, api_error, running
from podium.core.ports import JobRequest

if TYPE_CHECKING:
    from podium.sim.harness import World

# How often a start's look-up is throttled in a faulty world: often enough that one
# attempt is given back several times, and now and then past its cap.
LOOKUP_THROTTLED = 0.35
# How often a submit that acted answers throttled (given back, its job started).
SUBMIT_THROTTLED = 0.15


class SimJobs:
    def __init__(self, world: World) -> None:
        self._world = world
        self._started: dict[str, str] = {}  # attempt key -> job id
        self.found_again: set[str] = set()  # attempt keys of jobs looked up after submit
        self.stopped: set[str] = set()  # attempt keys whose job was asked to stop

    def start(self, request: JobRequest) -> JobOutcome:
        world = self._world
        if world.draw(LOOKUP_THROTTLED):
            world.log(f"JOB LOOK-UP THROTTLED {request.key}")
            error = api_error("Sim ListJobs", "ThrottlingException", "(nothing was started)")
            return JobOutcome(Phase.NOT_STARTED, error=error)
        found = self.find(request)
        if found is not None:
            return found  # started before: the same job, not a second one
        run_id, step, attempt = request.key.rsplit("/", 2)
        world.invocations[(run_id, step, int(attempt))] += 1
        world.invoked_by[(run_id, step, int(attempt))] = world.sched.current()
        handle = f"job-{len(self._started) + 1}"
        self._started[request.key] = handle
        if world.draw(SUBMIT_THROTTLED):
            world.log(f"JOB SUBMIT ACCEPTED, ANSWERED THROTTLED {request.key}")
            error = api_error("Sim RunTask", "ThrottlingException", "Rate exceeded")
            return JobOutcome(Phase.NOT_STARTED, error=error)
        return running(handle)

    def find(self, request: JobRequest) -> JobOutcome | None:
        """A submitted job has ended, successfully, by the time anyone asks again."""
        handle = self._started.get(request.key)
        if handle is None:
            return None
        self.found_again.add(request.key)
        step = request.key.rsplit("/", 2)[1]
        return JobOutcome(Phase.SUCCEEDED, handle, {"step": step})

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        return outcome

    def stop(self, request: JobRequest, reason: str) -> None:
        self.stopped.add(request.key)
        return None  # a job that ended has nothing to stop

    def lost(self) -> list[str]:
        """The attempt keys of jobs submitted that were neither found again nor stopped."""
        return sorted(set(self._started) - self.found_again - self.stopped)
