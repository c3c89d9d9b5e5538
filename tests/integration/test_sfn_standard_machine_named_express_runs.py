"""A STANDARD state machine whose name is ``express``.

adapters/jobs/sfn.py told an Express execution, after it started, by ``":express:" in
arn``. A Standard execution's ARN is ``arn:aws:states:R:A:execution:<machine>:<name>``,
so a STANDARD machine named ``express`` had ``:express:`` in every execution ARN: its
step failed as "of type EXPRESS" after its execution started (left running, unstopped),
although DescribeStateMachine said STANDARD. An Express ARN has ``express`` as its
resource type (the sixth ``:`` field), read now only when the type is unknown."""

from __future__ import annotations

from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from tests.integration.test_sfn_express_state_machine_refused import (
    executions,
    machine,
    rt,
    run_one,
)

__all__ = ["rt"]  # the fixture


def test_a_standard_machine_named_express_runs(rt: LocalRuntime) -> None:
    """The user saw the step FAILED with Podium.ConfigError "is of type EXPRESS" for a
    STANDARD machine (its execution left running); it runs and waits as any
    STANDARD machine's step does."""
    arn = machine(rt, "express", "STANDARD")
    record = run_one(rt, arn)
    assert record.status is StepStatus.RUNNING, (record.status, record.error)
    assert len(executions(rt, arn)) == 1
