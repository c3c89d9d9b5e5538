"""``sfn_execution`` on Step Functions: StartExecution named by the attempt (the same
name twice is the same execution), DescribeExecution, StopExecution. The execution's
output is the step's output.

A StartExecution refused as throttled, or as ExecutionLimitExceeded (the account's
open executions are at their quota: none can start until some end), on every try
botocore made of it started nothing (``StartTries``): the attempt is given back and
starts again later under the same name, spending no retry, as a throttled Batch
SubmitJob does.

Only STANDARD state machines: an EXPRESS execution cannot be described, found again by
its name or stopped, and sends no status-change event, so its attempt could only wait
out its lease and start it again. Its type is read once per state machine
(DescribeStateMachine: a machine's type never changes) and an EXPRESS one is refused
before anything starts."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from podium.adapters.jobs.aws_errors import (
    StartTries,
    asked_failed,
    code_of,
    error_of,
    is_api_error,
    is_transient_error,
    lookup_failed,
    raise_if_transient,
    start_failed,
    throttled_start,
)
from podium.core.engine.external import (
    JobOutcome,
    Phase,
    dotted_name,
    running,
    sfn_execution_outcome,
)
from podium.core.engine.step_error import StepError
from podium.core.ports import JobRequest

log = logging.getLogger("podium.jobs")

# StartExecution's refusals besides throttling: the maximum number of running executions
# has been reached (they "must end or be stopped before a new execution can be
# started"), or KMS throttled the state machine's customer managed key; so none was
# started. A throttled-like refusal: given back.
START_REFUSALS = frozenset({"ExecutionLimitExceeded", "KmsThrottlingException"})
# DescribeStateMachine refused for want of a grant (a deployment whose work role has
# only StartExecution): the type is not known, and the execution's ARN tells it after
# the start instead.
_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
UNKNOWN_TYPE = ""


def execution_arn(state_machine: str, key: str) -> str:
    """The ARN an execution of ``state_machine`` named for ``key`` has (or will have)."""
    return state_machine.replace(":stateMachine:", ":execution:", 1) + ":" + dotted_name(key)


def express_refused(state_machine: str, *, started: bool = False) -> StepError:
    """The error of a step naming an EXPRESS state machine (not retryable: its type
    never changes)."""
    ran = (
        " (this attempt started one execution, which runs to its end: Express executions"
        " cannot be stopped)"
        if started
        else ""
    )
    return StepError.of(
        "Podium.ConfigError",
        f"state machine {state_machine} is of type EXPRESS: sfn_execution runs STANDARD"
        " state machines only (an Express execution cannot be described, found again or"
        f" stopped, and sends no status-change event){ran}; name a STANDARD state machine"
        " (one that runs the Express one with states:startExecution.sync:2 will do), or"
        " call it from a lambda step with StartSyncExecution",
        retryable=False,
    )


class SfnExecutions:
    def __init__(self, client: Any) -> None:
        self._sfn = client
        self._starts = StartTries(client, "StartExecution", START_REFUSALS)
        self._types: dict[str, str] = {}  # state machine ARN -> STANDARD, EXPRESS, ""
        self._lock = threading.Lock()

    def start(self, request: JobRequest) -> JobOutcome:
        spec = request.spec
        try:
            kind = self._type_of(spec.state_machine)
        except Exception as exc:
            # Throttled: nothing started, given back; the machine not there: fails.
            return lookup_failed("Step Functions DescribeStateMachine", exc)
        if kind == "EXPRESS":
            return JobOutcome(Phase.FAILED, error=express_refused(spec.state_machine))
        try:
            resp = self._starts.call(
                self._sfn.start_execution,
                stateMachineArn=spec.state_machine,
                name=dotted_name(request.key),
                input=json.dumps(request.rendered.get("input"), separators=(",", ":")),
            )
        except Exception as exc:
            if is_api_error(exc) and code_of(exc)[0] == "ExecutionAlreadyExists":
                found = self.find(request)  # started before a crash: that one
                if found is not None:
                    return found
            if self._starts.all_refused(exc):
                return throttled_start("StartExecution", exc)  # nothing started: given back
            return start_failed("StartExecution", exc)
        arn = str(resp["executionArn"])
        if kind == UNKNOWN_TYPE and _resource_type(arn) == "express":  # DescribeStateMachine
            # was denied: the execution's ARN tells (arn:aws:states:R:A:express:M:N:I; a
            # STANDARD machine may be named "express": arn:aws:states:R:A:execution:...)
            error = express_refused(spec.state_machine, started=True)
            return JobOutcome(Phase.FAILED, arn, {"execution_arn": arn}, error)
        return running(arn)

    def _type_of(self, state_machine: str) -> str:
        """The state machine's type, asked once (raises what DescribeStateMachine
        raised, but for a denial: then the type is UNKNOWN_TYPE, said once)."""
        with self._lock:
            known = self._types.get(state_machine)
        if known is not None:
            return known
        try:
            kind = str(self._sfn.describe_state_machine(stateMachineArn=state_machine)["type"])
        except Exception as exc:
            if not is_api_error(exc) or code_of(exc)[0] not in _DENIED:
                raise
            log.warning(
                "DescribeStateMachine denied for %s: an EXPRESS state machine is told only"
                " once its execution started (grant states:DescribeStateMachine): %s",
                state_machine,
                exc,
            )
            kind = UNKNOWN_TYPE
        with self._lock:
            self._types[state_machine] = kind
        return kind

    def find(self, request: JobRequest) -> JobOutcome | None:
        arn = execution_arn(request.spec.state_machine, request.key)
        try:
            described = self._sfn.describe_execution(executionArn=arn)
        except Exception as exc:
            if is_api_error(exc) and code_of(exc)[0] == "ExecutionDoesNotExist":
                return None
            asked = asked_failed("DescribeExecution", exc)
            return running(arn) if asked.error is None else asked
        return sfn_execution_outcome(described)

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        if outcome.phase is not Phase.SUCCEEDED:
            return outcome
        if outcome.output.get("_has_output"):
            return JobOutcome(outcome.phase, outcome.handle, outcome.output.get("output"))
        # The event left a big output out: it is read from the execution, and the step
        # never succeeds without it.
        arn = outcome.handle or execution_arn(request.spec.state_machine, request.key)
        try:
            described = self._sfn.describe_execution(executionArn=arn)
        except Exception as exc:
            if not is_api_error(exc) or is_transient_error(exc):
                # Throttled (or the service down): raised, so the event's message is
                # handled again later; the attempt's polls, which read the output with
                # the state, go on meanwhile.
                raise
            error = error_of("Step Functions DescribeExecution", exc)
            return JobOutcome(Phase.FAILED, arn, {"execution_arn": arn}, error)
        read = sfn_execution_outcome(described)
        if read.phase is Phase.SUCCEEDED:
            return JobOutcome(read.phase, read.handle, read.output.get("output"))
        if read.phase is Phase.FAILED:
            return read
        raise RuntimeError(  # not ended, after its event said so: asked again later
            f"execution {arn} ended by its event, but DescribeExecution says {read.phase.value}"
        )

    def stop(self, request: JobRequest, reason: str) -> None:
        arn = execution_arn(request.spec.state_machine, request.key)
        try:
            self._sfn.stop_execution(executionArn=arn, cause=reason[:32768])
        except Exception as exc:
            raise_if_transient(exc)


def _resource_type(arn: str) -> str:
    """An execution ARN's resource type: ``execution`` (STANDARD) or ``express``."""
    parts = arn.split(":")
    return parts[5] if len(parts) > 5 else ""
