"""docs/workflow-language.md, Step params: "A param written `{type: int, value: "${...}"}`
is type-checked once rendered (the types of workflow params); a wrong type or a template
that cannot be evaluated fails the step, without retries, with the param's name."

Was: the step failed without retries, but its error said `params: ...` for every param,
without the param's name (service/bindings.py ``render_step_params`` rendered the whole
map as one template and said a type check's ``issue.message`` without its
``issue.path``; service/execute.py prefixed `params: `); a lambda payload's failing
template said `payload: ...` the same way. Now the error names the param (`params.table:
...`) or the payload's field (`payload.r: ...`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podium.testing import run_workflow, step_of

MODULE = """
def extract(event):
    return {"count": 3}


def load(event):
    return event["step_params"]
"""


def _failed_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]) -> str:
    (tmp_path / "step_param_name_fns.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    definition = {
        "name": "step_param_names",
        "steps": [
            {"id": "extract", "type": "lambda", "function": "extract-fn"},
            {
                "id": "load",
                "type": "lambda",
                "function": "load-fn",
                "depends_on": ["extract"],
                "params": params,
            },
        ],
    }
    view = run_workflow(
        definition,
        functions={
            "extract-fn": "step_param_name_fns:extract",
            "load-fn": "step_param_name_fns:load",
        },
    )
    assert view.run.status.value == "FAILED"
    load = step_of(view, "load")
    assert load.status.value == "FAILED" and load.attempt == 1
    return str(load.error)


def test_a_step_param_of_the_wrong_type_names_the_param(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`params: {batch: 10, table: {type: int, value: "${'sales_' + ...}"}}` failed with
    `params: step param expected int (an integer such as 42), got string 'sales_3'`: which
    param? Now it says `params.table: ...`."""
    error = _failed_load(
        tmp_path,
        monkeypatch,
        {
            "batch": 10,
            "table": {"type": "int", "value": "${'sales_' + string(steps.extract.output.count)}"},
        },
    )
    assert "table" in error, error


def test_a_step_param_whose_template_fails_names_the_param(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`params: {batch: 10, rows_in: "${steps.extract.output.rows}"}` (the output has
    `count`, not `rows`) failed with `params: no such key: 'rows'`: neither the param nor
    the expression. Now it says `params.rows_in: ...` (as a NaN did: `NaN at
    payload.ratio`)."""
    error = _failed_load(
        tmp_path,
        monkeypatch,
        {"batch": 10, "rows_in": "${steps.extract.output.rows}"},
    )
    assert "rows_in" in error, error


def test_the_error_starts_with_the_params_place_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The place is said once, first: `params.table: expected int ...`, not `params:
    params.table: ...` nor the old `step param` words."""
    error = _failed_load(
        tmp_path,
        monkeypatch,
        {"table": {"type": "int", "value": "${'sales_' + string(steps.extract.output.count)}"}},
    )
    assert error.startswith("params.table: expected int"), error
    template = _failed_load(tmp_path, monkeypatch, {"rows_in": "${steps.extract.output.rows}"})
    assert template.startswith("params.rows_in: "), template
    assert "no such key: 'rows'" in template, template


def test_a_nested_step_param_is_named_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template inside a map or list of a param is named to its place."""
    error = _failed_load(tmp_path, monkeypatch, {"cfg": {"rows": ["${steps.extract.output.rows}"]}})
    assert error.startswith("params.cfg.rows[0]: "), error


@pytest.mark.parametrize("invocation", [{}, {"invocation": "async"}], ids=["sync", "async"])
def test_a_payload_field_whose_template_fails_names_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, invocation: dict[str, str]
) -> None:
    """`payload: {n: 1, r: "${steps.extract.output.rows}"}` failed with `payload: no such
    key: 'rows'`. Now it says `payload.r: ...`; an async lambda's said `payload: payload.r`
    once the field was named (runtimes/callback.py added its own prefix)."""
    (tmp_path / "step_param_name_fns.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    view = run_workflow(
        {
            "name": "payload_field_names",
            "steps": [
                {"id": "extract", "type": "lambda", "function": "extract-fn"},
                {
                    "id": "load",
                    "type": "lambda",
                    "function": "load-fn",
                    "depends_on": ["extract"],
                    "payload": {"n": 1, "r": "${steps.extract.output.rows}"},
                    **invocation,
                },
            ],
        },
        functions={
            "extract-fn": "step_param_name_fns:extract",
            "load-fn": "step_param_name_fns:load",
        },
    )
    load = step_of(view, "load")
    assert load.status.value == "FAILED" and load.attempt == 1
    assert str(load.error).startswith("payload.r: "), load.error
