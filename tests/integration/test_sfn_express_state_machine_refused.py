"""sfn_execution naming an EXPRESS state machine: StartExecution succeeded, but AWS
keeps no history of an Express execution (DescribeExecution does not know it, its ARN
is ``...:express:...``, not the ``...:execution:...`` Podium derives; it sends no
status-change event and cannot be stopped), so the attempt waited, its poll found
nothing, and after the claim's lease it failed as a platform error and retried,
starting the Express workflow again each time. adapters/jobs/sfn.py now reads the
state machine's type (DescribeStateMachine, once per machine) and refuses EXPRESS
before starting anything. moto cannot show the waiting (it lists and describes Express
executions as Standard ones): there the attempt simply waited, RUNNING."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.sfn import SfnExecutions
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime

REGION = "us-east-1"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/podium-test"
DEFINITION = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def _error(code: str, operation: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class _Sfn:
    """moto's Step Functions, whose DescribeStateMachine a test may refuse (``refuse``:
    the code, ``times`` times), and whose StartExecution may answer with an Express
    execution's ARN, as AWS does for an EXPRESS machine. Describes are counted."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.refuse = ""
        self.times = 0
        self.described = 0
        self.express_arns = False

    def describe_state_machine(self, **kwargs: Any) -> Any:
        self.described += 1
        if self.refuse and self.times:
            self.times -= 1
            raise _error(self.refuse, "DescribeStateMachine")
        return self._client.describe_state_machine(**kwargs)

    def start_execution(self, **kwargs: Any) -> Any:
        resp = dict(self._client.start_execution(**kwargs))
        if self.express_arns:
            resp["executionArn"] = resp["executionArn"].replace(":execution:", ":express:")
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        sfn = _Sfn(boto3.client("stepfunctions", region_name=REGION))
        runtime.services.jobs = {"sfn_execution": SfnExecutions(sfn)}
        runtime.sfn = sfn  # type: ignore[attr-defined]
        yield runtime


def machine(rt: LocalRuntime, name: str, kind: str) -> str:
    sfn: Any = rt.sfn  # type: ignore[attr-defined]
    arn: str = sfn.create_state_machine(name=name, definition=DEFINITION, roleArn=ROLE, type=kind)[
        "stateMachineArn"
    ]
    return arn


def run_one(rt: LocalRuntime, arn: str, *, name: str = "wf") -> Any:
    rt.push(
        {
            "name": name,
            "steps": [{"id": "job", "type": "sfn_execution", "state_machine": arn, "input": {}}],
        }
    )
    run = rt.start_run(name)
    rt.pump(wait=False)
    record = rt.store.get_step(run.run_id, "job")
    assert record is not None
    return record


def executions(rt: LocalRuntime, arn: str) -> list[Any]:
    sfn: Any = rt.sfn  # type: ignore[attr-defined]
    listed: list[Any] = sfn.list_executions(stateMachineArn=arn)["executions"]
    return listed


def test_an_express_state_machine_is_refused_before_it_starts(rt: LocalRuntime) -> None:
    """The attempt waited on an Express execution it could never see end (here, in
    moto, RUNNING); now the step fails at once, naming the type and what to do, and
    starts nothing."""
    arn = machine(rt, "quick", "EXPRESS")
    record = run_one(rt, arn)
    assert record.status is StepStatus.FAILED, record.status
    assert record.error_type == "Podium.ConfigError", record.error
    assert "of type EXPRESS" in (record.error or "") and arn in (record.error or "")
    assert "STANDARD" in (record.error or "")
    assert executions(rt, arn) == []


def test_the_type_is_asked_once_per_state_machine(rt: LocalRuntime) -> None:
    """A STANDARD machine runs as before; its type is read at its first start only (a
    state machine's type never changes)."""
    arn = machine(rt, "child", "STANDARD")
    sfn: Any = rt.sfn  # type: ignore[attr-defined]
    assert run_one(rt, arn, name="one").status is StepStatus.RUNNING
    assert run_one(rt, arn, name="two").status is StepStatus.RUNNING
    assert sfn.described == 1
    assert len(executions(rt, arn)) == 2


def test_a_throttled_type_look_up_starts_nothing_and_is_asked_again(rt: LocalRuntime) -> None:
    """DescribeStateMachine throttled: nothing started, the attempt is given back (no
    retry spent) and starts once the look-up answers."""
    arn = machine(rt, "child", "STANDARD")
    sfn: Any = rt.sfn  # type: ignore[attr-defined]
    sfn.refuse, sfn.times = "ThrottlingException", 1
    record = run_one(rt, arn)
    assert record.status is StepStatus.READY, (record.status, record.error)
    assert executions(rt, arn) == []
    rt.pump(wait=True, max_deliveries=20)
    assert len(executions(rt, arn)) == 1
    record = rt.store.get_step(record.run_id, "job")
    assert record is not None and record.attempt == 1, record


def test_a_state_machine_that_does_not_exist_is_a_config_error(rt: LocalRuntime) -> None:
    arn = f"arn:aws:states:{REGION}:{DEFAULT_ACCOUNT_ID}:stateMachine:missing"
    record = run_one(rt, arn)
    assert record.status is StepStatus.FAILED and record.error_type == "Podium.ConfigError"
    assert "DescribeStateMachine" in (record.error or "") and "missing" in (record.error or "")


def test_without_describe_an_express_execution_fails_once_it_is_started(
    rt: LocalRuntime,
) -> None:
    """A work role without states:DescribeStateMachine (a deployment from before the
    grant) still runs STANDARD machines; an EXPRESS one is told by the ARN of the
    execution it started (``...:express:...``), and fails for good instead of being
    waited for and started again."""
    arn = machine(rt, "quick", "EXPRESS")
    sfn: Any = rt.sfn  # type: ignore[attr-defined]
    sfn.refuse, sfn.times, sfn.express_arns = "AccessDeniedException", 10, True
    record = run_one(rt, arn)
    assert record.status is StepStatus.FAILED, record.status
    assert record.error_type == "Podium.ConfigError", record.error
    assert "of type EXPRESS" in (record.error or "") and "cannot be stopped" in (record.error or "")
    standard = machine(rt, "child", "STANDARD")
    sfn.express_arns = False
    assert run_one(rt, standard, name="other").status is StepStatus.RUNNING
