"""The external step types: each one the shared runtime with its own reading of the
service's state-change events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.engine.external import JobOutcome, ecs_task_outcome
from podium.service.runtimes.callback import ApprovalRuntime, AsyncLambdaRuntime, CallbackRuntime
from podium.service.runtimes.external import ExternalJobRuntime
from podium.service.runtimes.http import HttpRuntime


def _ecs(spec: Any, detail: Mapping[str, Any]) -> JobOutcome:
    return ecs_task_outcome(detail, spec.container)


EXTERNAL_RUNTIMES: dict[str, Any] = {
    "ecs_task": ExternalJobRuntime("ecs_task", _ecs),
    "http": HttpRuntime(),
    "wait_for_callback": CallbackRuntime(),
    "approval": ApprovalRuntime(),
    "lambda_async": AsyncLambdaRuntime(),
}
