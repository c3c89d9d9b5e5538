"""A step whose code calls sys.exit() (argparse does, on a bad argument) fails its
attempt as Lambda reports it (Runtime.ExitError). It ended the whole local process: the
run stayed RUNNING, and every later `podium run` on the home redelivered the step and
exited with its status, silently."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

CALLS: list[int] = []


def exits(event: dict[str, Any]) -> None:
    CALLS.append(1)
    sys.exit(3)


@pytest.mark.parametrize("store", ["sqlite", "moto"])
def test_a_step_that_exits_fails_its_attempt_and_the_process_goes_on(
    store: str, tmp_path: Any
) -> None:
    CALLS.clear()
    home = tmp_path / "home" if store == "sqlite" else None
    step = {"id": "a", "type": "lambda", "function": f"{__name__}:exits", "retries": 1}
    with LocalRuntime(store=store, virtual_time=True, home=home) as runtime:
        view = runtime.run({"name": "exits", "steps": [step]})
    assert view.run.status is RunStatus.FAILED
    (record,) = view.steps
    assert record.status is StepStatus.FAILED and record.attempt == 2  # retried once
    assert record.error_type == "Runtime.ExitError"
    assert "sys.exit(3)" in (record.error or "")
    assert len(CALLS) == 2
