"""Expressions in running workflows: conditional edges, join rules, error handlers,
param templates and payload interpolation, on the embedded runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.testing import run_workflow, step_of

ROOT = Path(__file__).resolve().parents[2]
ECHO = "tests.integration.test_branching:echo"


def echo(event: dict[str, Any]) -> Any:
    return event["payload"]


def statuses(view: Any) -> dict[str, str]:
    return {s.step: s.status.value for s in view.steps}


@pytest.mark.parametrize(
    ("min_accuracy", "taken", "skipped"), [(0.5, "deploy", "notify"), (0.999, "notify", "deploy")]
)
def test_ml_pipeline_deploys_only_when_accurate_enough(
    min_accuracy: float, taken: str, skipped: str
) -> None:
    view = run_workflow(ROOT / "examples/ml_pipeline/workflow.yaml", {"min_accuracy": min_accuracy})
    assert view.run.status is RunStatus.SUCCEEDED
    got = statuses(view)
    assert got[taken] == "SUCCEEDED" and got[skipped] == "SKIPPED"
    assert got["report"] == "SUCCEEDED"  # if/else branches merge again (one_success)
    assert step_of(view, skipped).reason == "no incoming edge taken (join: one_success)"
    accuracy = step_of(view, "evaluate").output["accuracy"]
    if taken == "deploy":
        deployed = step_of(view, "deploy").output
        assert deployed["accuracy"] == accuracy
        assert deployed["model_uri"] == view.run.params["model_uri"]
        train = step_of(view, "train").output  # an ecs_task, played locally (podium.toml)
        assert train["exit_code"] == 0 and train["task_arn"].startswith("local/")
    else:
        assert str(accuracy) in step_of(view, "notify").output["sent"]


def test_param_templates_evaluate_in_dependency_order(runtime: LocalRuntime) -> None:
    wf = {
        "name": "templated",
        "params": {
            "key": {"type": "string", "default": "${params.prefix}/${params.day}.csv"},
            "day": {"type": "string", "default": "${run.logical_date}"},
            "prefix": {"type": "string", "default": "s3://bucket/${run.workflow}"},
            "count": {"type": "int", "default": "${size(params.regions) * 2}"},
            "regions": {"type": "list", "default": ["eu", "us"]},
        },
        "steps": [
            {
                "id": "a",
                "type": "lambda",
                "function": ECHO,
                "payload": {"key": "${params.key}", "n": "${params.count}", "lit": [1, "x"]},
            },
            {
                "id": "b",
                "type": "lambda",
                "function": ECHO,
                "depends_on": ["a"],
                "payload": {
                    "from_a": "${steps.a.output.key}",
                    "nested": {"n": "${steps.a.output.n + 1}"},
                },
            },
        ],
    }
    view = runtime.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    day = view.run.params["day"]
    assert view.run.params["key"] == f"s3://bucket/templated/{day}.csv"
    assert view.run.params["count"] == 4
    assert step_of(view, "a").output == {"key": view.run.params["key"], "n": 4, "lit": [1, "x"]}
    assert step_of(view, "b").output == {"from_a": view.run.params["key"], "nested": {"n": 5}}


def test_an_override_replaces_a_template_default(runtime: LocalRuntime) -> None:
    wf = {
        "name": "override",
        "params": {"day": {"type": "string", "default": "${run.logical_date}"}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    runtime.push(wf)
    assert runtime.start_run("override", {"day": "2020-01-01"}).params == {"day": "2020-01-01"}


def test_a_template_default_of_the_wrong_type_is_reported(runtime: LocalRuntime) -> None:
    wf = {
        "name": "badtype",
        "params": {"n": {"type": "int", "default": "${'x' + 'y'}"}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    runtime.push(wf)
    with pytest.raises(DefinitionError, match=r"params\.n\.default: expected int"):
        runtime.start_run("badtype")


def test_error_handler_recovers_the_run(runtime: LocalRuntime) -> None:
    wf = {
        "name": "handled",
        "steps": [
            {"id": "load", "type": "fail", "message": "source unavailable"},
            {"id": "next", "type": "noop", "depends_on": ["load"]},
            {
                "id": "handler",
                "type": "noop",
                "depends_on": ["load"],
                "join": "one_failed",
                "recover": True,
            },
            {
                "id": "cleanup",
                "type": "noop",
                "depends_on": ["next", "handler"],
                "join": "all_done",
            },
        ],
    }
    view = runtime.run(wf)
    assert statuses(view) == {
        "load": "FAILED",
        "next": "SKIPPED",
        "handler": "SUCCEEDED",
        "cleanup": "SUCCEEDED",
    }
    assert view.run.status is RunStatus.SUCCEEDED


def test_handler_without_recover_runs_but_the_run_fails(runtime: LocalRuntime) -> None:
    wf = {
        "name": "unrecovered",
        "steps": [
            {"id": "load", "type": "fail", "message": "boom"},
            {"id": "alert", "type": "noop", "depends_on": ["load"], "join": "one_failed"},
            {"id": "ok_path", "type": "noop", "depends_on": ["load"]},
        ],
    }
    view = runtime.run(wf)
    assert statuses(view) == {"load": "FAILED", "alert": "SUCCEEDED", "ok_path": "SKIPPED"}
    assert view.run.status is RunStatus.FAILED and view.run.error == "load: boom"


def test_handler_is_skipped_when_nothing_failed(runtime: LocalRuntime) -> None:
    wf = {
        "name": "nofailure",
        "steps": [
            {"id": "a", "type": "noop"},
            {"id": "on_error", "type": "noop", "depends_on": ["a"], "join": "one_failed"},
        ],
    }
    view = runtime.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    assert step_of(view, "on_error").reason == "no upstream failure to handle (join: one_failed)"


def test_all_success_join_skips_when_a_branch_was_not_taken(runtime: LocalRuntime) -> None:
    wf = {
        "name": "strict_join",
        "params": {"go": {"type": "bool", "default": False}},
        "steps": [
            {"id": "a", "type": "noop"},
            {"id": "b", "type": "noop", "depends_on": [{"step": "a", "when": "params.go"}]},
            {"id": "c", "type": "noop", "depends_on": ["a"]},
            {"id": "strict", "type": "noop", "depends_on": ["b", "c"], "join": "all_success"},
            {"id": "lenient", "type": "noop", "depends_on": ["b", "c"]},
        ],
    }
    view = runtime.run(wf)
    assert statuses(view) == {
        "a": "SUCCEEDED",
        "b": "SKIPPED",
        "c": "SUCCEEDED",
        "strict": "SKIPPED",
        "lenient": "SUCCEEDED",
    }
    assert step_of(view, "strict").reason == "join all_success: 1 of 2 incoming edges taken"
    assert view.run.status is RunStatus.SUCCEEDED


# b's ``when`` fails to evaluate at run time: a's output has no ``missing``.
BAD_CONDITION: dict[str, Any] = {
    "name": "bad_condition",
    "steps": [
        {"id": "a", "type": "lambda", "function": ECHO, "payload": {"x": 1}},
        {
            "id": "b",
            "type": "noop",
            "depends_on": [{"step": "a", "when": "steps.a.output.missing > 1"}],
        },
    ],
}


def test_a_condition_error_at_run_time_fails_the_run(runtime: LocalRuntime) -> None:
    view = runtime.run(BAD_CONDITION)
    assert view.run.status is RunStatus.FAILED
    assert view.run.error is not None and view.run.error.startswith("b: when on 'a':")
    assert step_of(view, "b").status.value == "SKIPPED"


def test_bad_expressions_are_rejected_at_push_with_positions(runtime: LocalRuntime) -> None:
    wf = {
        "name": "bad_refs",
        "params": {"n": {"type": "int", "default": 1}},
        "steps": [
            {"id": "a", "type": "noop"},
            {
                "id": "b",
                "type": "lambda",
                "function": ECHO,
                "depends_on": ["a"],
                "payload": {"x": "${params.nn}", "y": "${steps.c.output}", "z": "${1 +}"},
            },
            {"id": "c", "type": "noop", "depends_on": [{"step": "a", "when": "steps.a.outptu"}]},
        ],
    }
    with pytest.raises(DefinitionError) as exc:
        runtime.push(wf)
    found = [str(i) for i in exc.value.issues]
    assert "steps[1].payload.x: unknown param 'nn' (column 3) (did you mean 'n'?)" in found
    assert any(
        m.startswith("steps[1].payload.y: step 'c' (column 3) is not upstream") for m in found
    )
    assert any(m.startswith("steps[1].payload.z:") and "column" in m for m in found)
    assert (
        "steps[2].depends_on[0].when: steps.a.outptu (column 1) does not exist; use steps.a.output or steps.a.params"
        in found
    )
