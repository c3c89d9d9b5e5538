"""sfn_execution: an execution whose output its status-change event leaves out (over
the event's size, ``outputDetails.included: false``) has that output read with
DescribeExecution when the event completes the attempt. A throttled DescribeExecution
there lost the output: ``SfnExecutions.complete`` read the "output" of the running
placeholder ``find`` returned, and the step SUCCEEDED with null."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.models import stepfunctions_backends

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.sfn import SfnExecutions
from podium.core.engine.status import StepStatus
from podium.handlers import events as events_handler
from podium.local.runtime import LocalRuntime
from podium.service.bindings import resolve_output

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-test"


class _ThrottledOnce:
    """moto's Step Functions whose next DescribeExecution, once armed, is throttled."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.throttle_next = False

    def describe_execution(self, **kwargs: Any) -> Any:
        if self.throttle_next:
            self.throttle_next = False
            raise ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "DescribeExecution",
            )
        return self._client.describe_execution(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        client = boto3.client("stepfunctions", region_name=REGION)
        definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        arn = client.create_state_machine(
            name="child", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        sfn = _ThrottledOnce(client)
        runtime.services.jobs = {"sfn_execution": SfnExecutions(sfn)}
        runtime.sfn = sfn  # type: ignore[attr-defined]
        runtime.arn = arn  # type: ignore[attr-defined]
        yield runtime


def test_a_big_output_read_while_describe_is_throttled_is_not_lost(rt: LocalRuntime) -> None:
    """The execution succeeded with an output too big for its event (``included:
    false``); the attempt read it with DescribeExecution, which was throttled that
    once. The step SUCCEEDED with output null, so every step downstream read
    ``steps.<id>.output`` as null and the real output was lost. Now the event's message
    is handled again later (and the attempt's poll reads the output meanwhile)."""
    arn: str = rt.arn  # type: ignore[attr-defined]
    rt.push(
        {
            "name": "s",
            "steps": [{"id": "job", "type": "sfn_execution", "state_machine": arn, "input": {}}],
        }
    )
    run = rt.start_run("s")
    rt.pump(wait=False)
    sfn: Any = rt.sfn  # type: ignore[attr-defined]
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    big = {"rows": list(range(30_000))}  # about 170 KB as JSON: over the event's share
    moto_execution = stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].describe_execution(
        execution["executionArn"]
    )
    moto_execution.status = "SUCCEEDED"
    moto_execution.output = json.dumps(big)
    sfn.throttle_next = True
    events_handler.handler(
        {
            "version": "0",
            "id": "e",
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "account": DEFAULT_ACCOUNT_ID,
            "region": REGION,
            "time": "2026-12-01T00:00:00Z",
            "resources": [execution["executionArn"]],
            "detail": {
                "executionArn": execution["executionArn"],
                "stateMachineArn": arn,
                "name": execution["name"],
                "status": "SUCCEEDED",
                "output": None,
                "outputDetails": {"included": False},
            },
        },
        None,
    )
    rt.pump()  # the event, then any poll that follows
    record = rt.store.get_step(run.run_id, "job")
    assert record is not None and record.status is StepStatus.SUCCEEDED, record
    got = resolve_output(rt.services, record.output)
    assert got == big, f"the step's output is {str(got)[:80]!r}, not the execution's"
