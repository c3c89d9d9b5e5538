"""The step-runtime protocol (Maestro's StepRuntime): start now, complete later.

Every step type implements the same four calls; the executor never asks what type a
step is. An attempt's result is one of:
- ``Done(output)`` / ``Failed(error)``: the attempt is over;
- ``Waiting(until)``: the work goes on elsewhere (a timer, an ECS task, a child run); no
  Lambda waits for it. A completion arrives later as a ``done`` message
  (``on_event``), and ``poll`` is the safety net when that message is late or lost;
- ``Poll(after_seconds)``: ask ``poll`` again after a while;
- ``StartAgain``: a start cut short, redone by the work function;
- ``GiveBack(error)``: the start did nothing and may not try now (the look-up it makes
  first was throttled, or an ECS RunTask under the attempt's clientToken was): the
  attempt goes back to READY, at the same number and key, and starts again after a
  backoff core plans (``plan_start_give_back``). It is the same attempt going on: its
  next claim neither stops at its breakpoint again nor says RUNNING again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.step_error import StepError

if TYPE_CHECKING:
    from podium.service.context import Services


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of one step instance, as the runtime sees it."""

    run: RunRecord
    spec: Any  # the step's model (podium.core.dsl.models.StepModel)
    step: str  # iteration path
    number: int
    started_at: int
    params: dict[str, Any] = field(default_factory=dict)  # the step params, rendered
    # The step as read just before this call (a late completion reads it to find the
    # attempt): a loop's pass decides from it rather than read it again.
    record: StepRecord | None = None

    @property
    def key(self) -> str:
        """``run/step/attempt``: the idempotency key handed to external work."""
        return f"{self.run.run_id}/{self.step}/{self.number}"


@dataclass(frozen=True, slots=True)
class Done:
    output: Any = None
    at: int | None = None  # when the work completed, if known (a timer's due time)
    log_ref: dict[str, Any] | None = None  # where the attempt's logs are (a Lambda's)
    # A callback's result (the API's, recorded): the attempt's end says so on the step
    # (``result_for``), so that a request racing it knows its result was applied.
    callback: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    error: StepError
    log_ref: dict[str, Any] | None = None
    at: int | None = None  # when the failure was known, if it was before now (a callback's)
    callback: bool = False  # a callback's result (as Done's)
    # Not the work's own outcome but a deadline passing (a timeout, a heartbeat missed):
    # it yields to a result the API accepted in time and noted on the step, which the
    # timer did not see yet (StateStore.note_result); that result's done applies it.
    yields_to_result: bool = False


@dataclass(frozen=True, slots=True)
class Waiting:
    until: int | None = None  # epoch ms when the runtime expects to be done (a timer)


@dataclass(frozen=True, slots=True)
class Poll:
    after_seconds: int


@dataclass(frozen=True, slots=True)
class StartAgain:
    """The attempt's start was cut short (its worker died) and must be redone where
    starts run: the work function, the one allowed to invoke functions and run tasks
    (an event, a poll or the sweeper finds it on another). Its claim message is sent
    again, and the work function redoes the start (completions.resume_waiting), once
    it has taken the redo: ``redo`` is its number, as the look that found the start
    cut short counted (a runtime that says StartAgain is ``RedoesStarts``)."""

    redo: int = 1


@dataclass(frozen=True, slots=True)
class GiveBack:
    """``start`` did nothing, for a passing reason (its look-up was throttled, the service
    unavailable; or a RunTask under the attempt's idempotency token was refused as
    throttled): the attempt is given back (READY, its permits released) and claimed
    again after a backoff, as the same attempt (its key unchanged, so a start that did
    happen after all is found, or answered by its token). Nothing happened that the
    attempt knows of, so no retry is spent; after ``MAX_START_GIVE_BACKS`` of them the
    attempt fails with ``error``, a platform error, as it would have at once (a service
    down for good still ends the step). Only ``start`` returns it: a later completion
    of started work never gives it back."""

    error: StepError


Result = Done | Failed | Waiting | Poll | StartAgain | GiveBack


class StepRuntime(Protocol):
    # May the worker that claimed it run it to the end in-process (a short call)?
    # Waiting runtimes say False: their completion comes as an event.
    synchronous: bool
    # Do its attempts run child runs (loops, subworkflows)? When a run ends, such a step
    # that ended other than SUCCEEDED has its children stopped again (``terminate``): a
    # crash may have come between the step's end and their stop.
    has_child_runs: bool

    def wait_ms(self, spec: Any) -> int:
        """How long an attempt may legitimately wait before it completes (its lease
        covers this), beyond the time a worker holds it."""
        ...

    def start(self, ctx: Services, attempt: Attempt) -> Result: ...

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result: ...

    def poll(self, ctx: Services, attempt: Attempt) -> Result: ...

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        """The ids of the child runs a RUNNING step of this type may have going (a loop's
        iterations not counted yet, a subworkflow's run): a pause pauses them too."""
        ...

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        """Cancel the external work (stop, kill, timeout). Must be idempotent."""
        ...


@runtime_checkable
class KeepsResults(Protocol):
    """A runtime whose result can be recorded before it is applied (a callback's, by the
    API: core/engine/callback_results.py). The deadline path asks it first: a result
    accepted for the attempt by its deadline, whose ``done`` message died with the
    request that recorded it, is the attempt's result, not a timeout."""

    def recorded_result(self, ctx: Services, attempt: Attempt, *, by: int) -> Result | None:
        """The attempt's result recorded at or before ``by`` (None: none came by then)."""
        ...


@runtime_checkable
class SubmitsWork(Protocol):
    """A runtime whose attempts submit work that runs apart from Podium (an ECS task, a
    Batch job, a Glue run, an execution): a stop racing the submit can leave it running,
    so a late poll that finds its attempt ended stops it again (core/engine/left_work.py)."""

    def stop_left_work(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        """Stop whatever work the ended ``attempt`` submitted (idempotent)."""
        ...


@runtime_checkable
class RedoesStarts(Protocol):
    """A runtime whose start, cut short by its worker's death, is redone by a later look
    (``StartAgain``). Two looks can find it cut short at once (a poll and the claim
    message delivered again, two deliveries of one message): the redo is taken with
    one conditional write first, so only one of them starts the attempt again."""

    def redo_start(self, ctx: Services, attempt: Attempt, redo: int) -> Result:
        """Take redo number ``redo`` of the attempt's start and, taken, start it;
        taken already (by another look), wait for that redo (a ``Poll``)."""
        ...
