"""One runtime per step type, behind one protocol (see base.py), and the registry."""

from __future__ import annotations

from typing import Any

from podium.service.runtimes.base import (
    Attempt,
    Done,
    Failed,
    Poll,
    Result,
    StepRuntime,
    Waiting,
)
from podium.service.runtimes.external import ExternalJobRuntime
from podium.service.runtimes.external_kinds import EXTERNAL_RUNTIMES
from podium.service.runtimes.foreach import ForeachRuntime
from podium.service.runtimes.lambda_fn import LambdaRuntime
from podium.service.runtimes.simple import FailRuntime, NoopRuntime, SleepRuntime
from podium.service.runtimes.subworkflow import SubworkflowRuntime
from podium.service.runtimes.while_loop import WhileRuntime

RUNTIMES: dict[str, StepRuntime] = {
    "noop": NoopRuntime(),
    "fail": FailRuntime(),
    "sleep": SleepRuntime(),
    "lambda": LambdaRuntime(),
    **EXTERNAL_RUNTIMES,
    "foreach": ForeachRuntime(),
    "while": WhileRuntime(),
    "subworkflow": SubworkflowRuntime(),
}


def runtime_for(spec: Any) -> StepRuntime:
    """The runtime of a step's type (every type the definition language accepts)."""
    return RUNTIMES[getattr(spec, "runtime_key", spec.type)]


__all__ = [
    "RUNTIMES",
    "Attempt",
    "Done",
    "ExternalJobRuntime",
    "Failed",
    "Poll",
    "Result",
    "StepRuntime",
    "Waiting",
    "runtime_for",
]
