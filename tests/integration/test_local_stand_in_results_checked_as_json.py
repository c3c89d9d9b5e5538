"""What a local stand-in's callable (adapters/jobs/local.py) returned was stored without
the check a lambda's result gets (adapters/runners.checked_output)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podium.core.engine.status import StepStatus
from podium.testing import run_workflow, step_of

ECS = {"type": "ecs_task", "cluster": "ml", "container": "main"}
SFN = {
    "type": "sfn_execution",
    "state_machine": "arn:aws:states:eu-west-1:123456789012:stateMachine:Reconcile",
}


def _run(tmp_path: Path, table: str, step: dict[str, Any], body: str) -> Any:
    module = f"stand_in_result_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(body)
    name = step.get("task_definition") or str(step.get("state_machine")).rsplit(":", 1)[-1]
    (tmp_path / "podium.toml").write_text(f'[{table}]\n{name} = "{module}:work"\n')
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps({"name": "stand_in_results", "steps": [step]}))
    return step_of(run_workflow(path), step["id"])


def test_a_result_with_no_json_form_failed_at_once(tmp_path: Path) -> None:
    """A callable that returned a ``datetime`` (a job reporting when it finished) crashed
    the worker each time it stored the result (TypeError: not JSON serializable): the
    step stayed RUNNING until its 10-day default timeout, then read 'Podium.Timeout'. It
    failed at once with Podium.OutputError saying why."""
    step = _run(
        tmp_path,
        "ecs_tasks",
        {"id": "report", "task_definition": "report", **ECS},
        "import datetime\n"
        "def work(event):\n"
        "    return {'finished_at': datetime.datetime(2026, 12, 1, 6, 0)}\n",
    )
    assert (step.status, step.error_type) == (StepStatus.FAILED, "Podium.OutputError"), (
        step.status,
        step.error_type,
        (step.error or "")[:160],
    )
    assert "JSON" in (step.error or "") and "datetime" in (step.error or ""), step.error


@pytest.mark.parametrize(
    ("table", "step"),
    [
        ("ecs_tasks", {"id": "stats", "task_definition": "stats", **ECS}),
        ("state_machines", {"id": "stats", **SFN}),
    ],
    ids=["ecs_task", "sfn_execution"],
)
def test_a_nan_result_was_refused_as_a_lambdas_is(
    tmp_path: Path, table: str, step: dict[str, Any]
) -> None:
    """A callable that returned NaN (a mean over no rows) SUCCEEDED with NaN stored in its
    output, which no output may hold (API clients and browsers refuse it); a local
    lambda returning the same failed with Podium.OutputError. The stand-in's step (a
    state machine's, whose result is the whole output, too) failed the same way."""
    done = _run(tmp_path, table, step, "def work(event):\n    return {'mean': float('nan')}\n")
    assert (done.status, done.error_type) == (StepStatus.FAILED, "Podium.OutputError"), (
        done.status,
        done.error_type,
        done.output,
    )


def test_a_json_result_is_still_the_output(tmp_path: Path) -> None:
    """The check kept a good result as it was: ``result`` in an ecs_task's output."""
    step = _run(
        tmp_path,
        "ecs_tasks",
        {"id": "ok", "task_definition": "ok", **ECS},
        "def work(event):\n    return {'rows': [1, 2], 'name': 'caf\\u00e9'}\n",
    )
    assert step.status is StepStatus.SUCCEEDED, step.error
    assert step.output["result"] == {"rows": [1, 2], "name": "caf\u00e9"}
