"""External work: start it now, complete it later (ecs_task, batch_job, glue_job,
sfn_execution).

- ``start`` renders the step's request and asks its backend to start the work, named
  by the attempt key (a start found already running is the same work, not a second).
  A start whose look-up (is the work there already?) failed transiently submitted
  nothing, an ECS RunTask refused as throttled is asked again under the same
  clientToken (the same task, if an earlier try of it started one), and a Batch, Glue
  or Step Functions start refused on every try botocore made started nothing
  (adapters/jobs/aws_errors.py ``StartTries``): the attempt is given back (``GiveBack``)
  and starts again later under the same key, on no retry budget. A start that failed
  otherwise transiently (a 5xx, a lost answer, maybe followed by a throttled try) may
  have started the work: the backend reports it running, so the attempt polls, holding
  its permits, and ``find`` by the same key settles it (a new attempt would use a new
  key, and orphan the work). A start that submitted work reads its step: an attempt a
  stop ended meanwhile (its ``terminate`` may have found nothing yet) stops that work;
- ``on_event``: a state-change event routed to the attempt (service/external_events.py)
  carries the work's state; an ended state closes the attempt, another one waits on;
- ``poll``: the safety net (a lost or late event): the backend finds the work by the
  attempt key and reports its state; work not found (a crash between the claim and the
  start) fails the attempt as a platform error, so a new attempt starts it. Polls back
  off with the attempt's age. A poll that finds its attempt ended other than SUCCEEDED
  stops its work again (service/completions.py: the net under the start's own check);
- ``terminate``: stop, kill and timeouts stop the work. The attempt has ended by then,
  so no message of its own would bring a failed stop back: a stop the service refused
  transiently (throttled, unavailable) is asked again by a ``stop_work`` timer, with
  backoff, a bounded number of times; a refusal for good (the work ended, access
  denied) is logged by the backend and not retried.

The attempt's lease is its timeout (10 days unless the step says), so no worker waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from podium.core.dsl.models import DEFAULT_WAIT_TIMEOUT_SECONDS
from podium.core.engine.external import JobOutcome, Phase, poll_after_seconds
from podium.core.engine.left_work import left_work
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.step_error import StepError, platform_error, user_error
from podium.core.expr import ExpressionError
from podium.core.expr.json_values import to_json_value
from podium.core.ports import JobBackend, JobRequest
from podium.service import messages
from podium.service.bindings import step_bindings
from podium.service.context import Services
from podium.service.gone_runs import still_there
from podium.service.runtimes.base import Attempt, Done, Failed, GiveBack, Poll, Result, Waiting

log = logging.getLogger("podium.external")

FIRST_STOP_RETRY_SECONDS = 30
MAX_STOP_RETRY_SECONDS = 900
MAX_STOP_TRIES = 12  # about two hours of asking (30 s doubling, at most 15 minutes apart)

# Reads an event's detail (the service's state-change event) into an outcome.
Interpret = Callable[[Any, Mapping[str, Any]], JobOutcome]


class ExternalJobRuntime:
    synchronous = False
    has_child_runs = False

    def __init__(self, kind: str, interpret: Interpret) -> None:
        self.kind = kind  # the step type, and the event kind routed to it
        self._interpret = interpret

    def wait_ms(self, spec: Any) -> int:
        timeout = spec.timeout if spec.timeout is not None else DEFAULT_WAIT_TIMEOUT_SECONDS
        return int(float(timeout) * 1000)

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        backend = self._backend(ctx)
        if backend is None:
            return Failed(self._not_configured())
        try:
            request = self._request(ctx, attempt, rendered=True)
        except ExpressionError as exc:
            return Failed(user_error(f"{exc.message}", retryable=False))
        outcome = backend.start(request)
        if outcome.phase is Phase.NOT_STARTED:
            return GiveBack(outcome.error or self._not_started())
        result = self._result(ctx, attempt, backend, request, outcome)
        if isinstance(result, Poll) and self._ended_while_starting(ctx, attempt):
            return Waiting()  # nothing to wait for: whoever ended the attempt closed it
        return result

    def _ended_while_starting(self, ctx: Services, attempt: Attempt) -> bool:
        """Submitted work of an attempt that a stop (a kill, a timeout) ended meanwhile:
        the stop's ``terminate`` may have come between this start's look-up and its
        submit, finding nothing, so the work would run on (billed) with nobody to stop
        it. The step is read once it has been submitted (a consistent read): ended by
        then, the work is stopped here; still RUNNING, a stop that ends it comes after
        the submit, and finds the work. One read per external start, none for other
        step types."""
        record = ctx.store.get_step(attempt.run.run_id, attempt.step)
        status, current = (record.status, record.attempt) if record else (None, 0)
        if not left_work(status, current, attempt.number):
            return False
        assert record is not None
        reason = record.reason if current == attempt.number else None  # why it ended
        log.info("stopping the %s work of %s: its attempt ended", self.kind, attempt.key)
        self.terminate(ctx, attempt, reason or f"attempt {attempt.number} has ended")
        return True

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        detail = event.get("detail")
        if event.get("kind") != self.kind or not isinstance(detail, Mapping):
            return self.poll(ctx, attempt)
        backend = self._backend(ctx)
        if backend is None:
            return Failed(self._not_configured())
        outcome = self._interpret(attempt.spec, detail)
        if outcome.phase is Phase.RUNNING:
            return Waiting()  # a step on the way (PENDING, RUNNING): the poll chain goes on
        return self._result(ctx, attempt, backend, self._request(ctx, attempt), outcome)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        backend = self._backend(ctx)
        if backend is None:
            return Failed(self._not_configured())
        request = self._request(ctx, attempt)
        found = backend.find(request)
        if found is None and ctx.now() < attempt.started_at + ctx.lease_ms:
            # Not there yet: the worker that claimed the attempt may still be starting
            # it (this look is a duplicate delivery of its claim, handled between its
            # look-up and its submit). Failed now, the attempt's retry would run beside
            # the job that worker submits next. Looked at again once it is surely gone.
            gone_in = attempt.started_at + ctx.lease_ms - ctx.now()
            return Poll(max(1, -(-gone_in // 1000)))
        if found is None:
            # Never started (its worker died between the claim and the start, or the
            # start failed transiently and the service did not act), or gone from the
            # service's memory. Starting it here could start work that ended long ago a
            # second time; a new attempt (a platform retry) starts it afresh.
            return Failed(
                platform_error(
                    f"the {self.kind} work of attempt {attempt.number} was not found: its"
                    " start failed (throttled, the service unavailable) or was lost (a"
                    " worker stopped), or the service no longer lists it"
                )
            )
        return self._result(ctx, attempt, backend, request, found)

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def stop_left_work(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        self.terminate(ctx, attempt, reason)

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        backend = self._backend(ctx)
        if backend is None:
            return
        stop_work(ctx, backend, self._request(ctx, attempt), reason, tries=0)

    # ------------------------------------------------------------------------------
    def _result(
        self,
        ctx: Services,
        attempt: Attempt,
        backend: JobBackend,
        request: JobRequest,
        outcome: JobOutcome,
    ) -> Result:
        if outcome.phase is Phase.RUNNING:
            return Poll(poll_after_seconds(ctx.now() - attempt.started_at))
        if outcome.phase is Phase.NOT_STARTED:
            return Failed(outcome.error or self._not_started())  # only a start says so
        outcome = backend.complete(request, outcome)
        if outcome.phase is Phase.SUCCEEDED:
            return Done(outcome.output)
        error = outcome.error or StepError.of("Podium.UserError", "the work failed")
        return Failed(error)

    def _backend(self, ctx: Services) -> JobBackend | None:
        return ctx.jobs.get(self.kind)

    def _request(self, ctx: Services, attempt: Attempt, *, rendered: bool = False) -> JobRequest:
        """The attempt's request; its templates are rendered only to start the work
        (finding and stopping it needs the key and the static fields alone)."""
        values = render_request(ctx, attempt) if rendered else {}
        return JobRequest(self.kind, attempt.key, attempt.spec, values)

    def _not_started(self) -> StepError:
        return platform_error(f"the {self.kind} work was not started (the service was busy)")

    def _not_configured(self) -> StepError:
        props = _CONSTRUCT_PROPS.get(self.kind, "the props of its resources")
        return StepError.of(
            "Podium.ConfigError",
            f"this deployment runs no {self.kind} steps: locally, map the step in"
            f" podium.toml ([{self.kind}s]); deployed, set the Podium construct's {props}"
            " (docs/deploy.md)",
            retryable=False,
        )


# The construct's props that grant each type (infra/podium_cdk/step_targets.py).
_CONSTRUCT_PROPS = {
    "ecs_task": "ecs_cluster_arns and ecs_task_definition_arns",
    "batch_job": "batch_job_queue_arns and batch_job_definition_arns",
    "glue_job": "glue_job_names",
    "sfn_execution": "sfn_state_machine_arns",
}


def render_request(ctx: Services, attempt: Attempt) -> dict[str, Any]:
    """The step's templated request fields, rendered (raises ExpressionError)."""
    run = attempt.run
    compiled = ctx.definitions.get(run.workflow, run.version)
    template = compiled.expressions.payloads.get(attempt.spec.id)
    if template is None:
        return dict(attempt.spec.templated)
    # A step's own bindings, as its params get: a step with wait_for reads the signals
    # that released it (an approval's message, a callback's payload: ``signal`` was
    # unknown here, failing the step the signal had just released).
    rendered = template.render(step_bindings(ctx, run, attempt.step, template.steps_read))
    assert isinstance(rendered, dict)
    # Sent as JSON (an http body, an execution's input, overrides): a timestamp as RFC
    # 3339, NaN refused naming its field (json.dumps raised past the runtime's handling).
    converted: dict[str, Any] = to_json_value(rendered, "")
    return converted


def stop_work(
    ctx: Services, backend: JobBackend, request: JobRequest, reason: str, *, tries: int
) -> None:
    """Ask the backend to stop the attempt's work. Its backends raise only what a retry
    may fix (throttling, the service down, a lost answer; or a bug of ours): the attempt
    has already ended and nothing else would stop the work, so a ``stop_work`` timer asks
    again later, backing off; after MAX_STOP_TRIES it is logged and left. Every failed
    stop is counted (ExternalStopFailed: the work may still run)."""
    try:
        backend.stop(request, reason)
    except Exception:
        ctx.metrics.count("ExternalStopFailed")
        tries += 1
        if tries >= MAX_STOP_TRIES:
            log.exception("gave up stopping the %s work of %s", request.kind, request.key)
            return
        log.warning("could not stop the %s work of %s, asking again", request.kind, request.key)
        run, step, number = request.key.rsplit("/", 2)
        delay = min(MAX_STOP_RETRY_SECONDS, FIRST_STOP_RETRY_SECONDS * 2 ** (tries - 1))
        retry = messages.StopWork(run, step, int(number), tries, reason[:1000])
        ctx.at(retry, ctx.now() + delay * 1000, queue="events")


def on_stop_work(ctx: Services, msg: messages.StopWork) -> None:
    """A ``stop_work`` timer: stop the ended attempt's work again (idempotent: work that
    has stopped meanwhile is not there to stop)."""
    run = still_there(ctx, msg.run, "stop_work")
    if run is None:
        return
    spec = ctx.definitions.get(run.workflow, run.version).step(msg.step)
    runtime = ctx.runtime_for(spec)
    if not isinstance(runtime, ExternalJobRuntime):
        return  # not external work (a message of an older definition's step)
    backend = ctx.jobs.get(runtime.kind)
    if backend is None:
        return  # this deployment runs no such steps any more
    request = JobRequest(runtime.kind, f"{msg.run}/{msg.step}/{msg.attempt}", spec, {})
    stop_work(ctx, backend, request, msg.reason, tries=msg.tries)
