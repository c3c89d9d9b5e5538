"""The external step types: each one the shared runtime with its own reading of the
service's state-change events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.engine.external import (
    JobOutcome,
    batch_job_outcome,
    ecs_task_outcome,
    glue_run_outcome,
    sfn_execution_outcome,
)
from podium.service.runtimes.base import StepRuntime
from podium.service.runtimes.callback import ApprovalRuntime, AsyncLambdaRuntime, CallbackRuntime
from podium.service.runtimes.external import ExternalJobRuntime
from podium.service.runtimes.http import HttpRuntime


def _ecs(spec: Any, detail: Mapping[str, Any]) -> JobOutcome:
    return ecs_task_outcome(detail, spec.container)


def _batch(spec: Any, detail: Mapping[str, Any]) -> JobOutcome:
    return batch_job_outcome(detail)


def _glue(spec: Any, detail: Mapping[str, Any]) -> JobOutcome:
    return glue_run_outcome(detail)


def _sfn(spec: Any, detail: Mapping[str, Any]) -> JobOutcome:
    return sfn_execution_outcome(detail)


EXTERNAL_RUNTIMES: dict[str, StepRuntime] = {
    "ecs_task": ExternalJobRuntime("ecs_task", _ecs),
    "batch_job": ExternalJobRuntime("batch_job", _batch),
    "glue_job": ExternalJobRuntime("glue_job", _glue),
    "sfn_execution": ExternalJobRuntime("sfn_execution", _sfn),
    "http": HttpRuntime(),
    "wait_for_callback": CallbackRuntime(),
    "approval": ApprovalRuntime(),
    "lambda_async": AsyncLambdaRuntime(),
}
