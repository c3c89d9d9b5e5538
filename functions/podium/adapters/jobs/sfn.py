"""``sfn_execution`` on Step Functions: StartExecution named by the attempt (the same
name twice is the same execution), DescribeExecution, StopExecution. The execution's
output is the step's output.

A StartExecution refused as throttled, or as ExecutionLimitExceeded (the account's
open executions are at their quota: none can start until some end), on every try
botocore made of it started nothing (``StartTries``): the attempt is given back and
starts again later under the same name, spending no retry, as a throttled Batch
SubmitJob does."""

from __future__ import annotations

import json
from typing import Any

from podium.adapters.jobs.aws_errors import (
    StartTries,
    asked_failed,
    code_of,
    is_api_error,
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
from podium.core.ports import JobRequest

# StartExecution's refusals besides throttling: the maximum number of running executions
# has been reached (they "must end or be stopped before a new execution can be
# started"), or KMS throttled the state machine's customer managed key; so none was
# started. A throttled-like refusal: given back.
START_REFUSALS = frozenset({"ExecutionLimitExceeded", "KmsThrottlingException"})


def execution_arn(state_machine: str, key: str) -> str:
    """The ARN an execution of ``state_machine`` named for ``key`` has (or will have)."""
    return state_machine.replace(":stateMachine:", ":execution:", 1) + ":" + dotted_name(key)


class SfnExecutions:
    def __init__(self, client: Any) -> None:
        self._sfn = client
        self._starts = StartTries(client, "StartExecution", START_REFUSALS)

    def start(self, request: JobRequest) -> JobOutcome:
        spec = request.spec
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
        return running(str(resp["executionArn"]))

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
        output = outcome.output.get("output")
        if not outcome.output.get("_has_output"):  # the event left a big output out
            described = self.find(request)
            if described is not None:
                output = described.output.get("output")
        return JobOutcome(outcome.phase, outcome.handle, output)

    def stop(self, request: JobRequest, reason: str) -> None:
        arn = execution_arn(request.spec.state_machine, request.key)
        try:
            self._sfn.stop_execution(executionArn=arn, cause=reason[:32768])
        except Exception as exc:
            raise_if_transient(exc)
