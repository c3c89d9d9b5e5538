"""Which runtime runs each step type: the map the composition roots (bootstrap, the
embedded home, the simulation, tests) hand to ``Services(runtimes=...)``.

The executor asks ``ctx.runtime_for(spec)`` and never imports this module: the loop and
subworkflow runtimes call back into the run lifecycle, which would import them back.
"""

from __future__ import annotations

from podium.service.runtimes.base import StepRuntime
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
