"""External work an ended attempt may have left running.

A stop ends a run's attempts and asks each one's runtime to stop its work; an external
start racing it (the worker between its look-up and its submit: an ECS ListTasks, then
RunTask) submits work after that stop found none. The attempt itself then learns of
its end from its step's record: its start reads it once it has submitted, and a poll
that comes for it reads it anyway. Pure: the decision, from the record as read.
"""

from __future__ import annotations

from podium.core.engine.status import StepStatus


def left_work(status: StepStatus | None, current_attempt: int, attempt: int) -> bool:
    """Has attempt ``attempt`` ended other than by succeeding, by its step's record
    (``status`` at ``current_attempt``; None: no record)? Then whatever work it
    submitted is stopped (a stop is idempotent: work that ended is not there to stop).

    - a later attempt on the record: this one ended (failed, timed out) before it;
    - an earlier one: the attempt was given back (READY at the number before it): it
      is the same attempt going on, its next claim submitting under the same key;
    - at this attempt: RUNNING is still going, SUCCEEDED ended with its work; any
      other status (STOPPED, TIMED_OUT, FAILED, a retry's wait) ended it meanwhile."""
    if status is None or current_attempt < attempt:
        return False
    if current_attempt > attempt:
        return True
    return status not in (StepStatus.RUNNING, StepStatus.SUCCEEDED)
