"""What a wrong step path into a loop iteration or a subworkflow's run was told to write
instead.

A step path (``per_day/0/x``) reaches into an iteration's run; when a part of it is not a
loop, the refusal suggests the path to use instead. Inside an iteration it suggested the
bare step id, which the top run does not have: the user typed it and got another error.
The suggestion now keeps the parts that lead there (service/step_paths.py)."""

from __future__ import annotations

import json

import pytest

from podium.local.runtime import LocalRuntime
from tests.integration.test_api_hostile import send

LOOPY = {
    "name": "loopy",
    "steps": [
        {"id": "first", "type": "noop"},
        {
            "id": "per_day",
            "type": "foreach",
            "over": {"i": [1, 2, 3]},
            "depends_on": ["first"],
            "steps": [
                {"id": "x", "type": "noop"},
                {"id": "y", "type": "fail", "message": "boom", "depends_on": ["x"]},
            ],
        },
    ],
}


def _failed_run(runtime: LocalRuntime) -> str:
    runtime.run(LOOPY)
    (run,) = runtime.store.list_runs("loopy", 10)
    return run.run_id


def test_a_restart_into_a_non_loop_body_step_suggests_its_whole_path(
    runtime: LocalRuntime,
) -> None:
    """``--from per_day/0/x/1/y``: 'x' is a plain step of the loop's body, so the path
    cannot go on past it. It said "restart --from x instead", but ``--from x`` is refused
    ("no step 'x' in workflow 'loopy'"): x lives in iteration 0. The suggestion is now the
    path that reaches x, ``per_day/0/x``."""
    run_id = _failed_run(runtime)
    status, body = send(
        "POST",
        f"/runs/{run_id}/actions",
        json.dumps({"action": "restart", "from": "per_day/0/x/1/y"}),
    )
    said = json.dumps(body)
    assert status == 400, body
    assert "--from per_day/0/x instead" in said, said
    # What it suggested is refused:
    status, body = send(
        "POST", f"/runs/{run_id}/actions", json.dumps({"action": "restart", "from": "x"})
    )
    assert status == 400 and "no step 'x'" in json.dumps(body), body


def test_a_step_action_into_a_non_loop_body_step_suggests_its_whole_path(
    runtime: LocalRuntime,
) -> None:
    """The same for a step action: ``skip per_day/0/x/1/y`` said "act on x instead",
    and the run has no step 'x' (it is per_day/0/x). It says "act on per_day/0/x
    instead" now."""
    run_id = _failed_run(runtime)
    status, body = send(
        "POST",
        f"/runs/{run_id}/steps/actions",
        json.dumps({"step": "per_day/0/x/1/y", "action": "skip"}),
    )
    said = json.dumps(body)
    assert status == 400, body
    assert "act on per_day/0/x instead" in said, said


def test_an_iteration_index_too_long_to_read_says_which_iterations_there_are(
    runtime: LocalRuntime,
) -> None:
    """``per_day/99999/x`` is told "iteration 99999 of 'per_day' never ran ... (iterations
    0 to 2 ran)", but ``per_day/99999999999999999999/x`` (digits, one iteration index
    too big) was told "'99999999999999999999' after 'per_day' must be an iteration index",
    which it is in form: the message named no range to pick from
    (core/engine/actions.IterationPath.parse). Like its shorter neighbour, it now says
    which indexes there are: "an iteration index is 0 to 99,999", as breakpoints say."""
    run_id = _failed_run(runtime)
    for path in ("per_day/99999/x", "per_day/99999999999999999999/x"):
        status, body = send(
            "POST", f"/runs/{run_id}/actions", json.dumps({"action": "restart", "from": path})
        )
        assert status == 400 and body["errors"][0]["path"] == "body.from", body
        assert "0 to " in body["errors"][0]["message"], (path, body)


def test_a_restart_into_a_non_loop_step_of_a_subworkflow_suggests_its_whole_path(
    runtime: LocalRuntime,
) -> None:
    """``--from call/load/x``: 'load' is a plain step of the run 'call' waits for. It said
    "restart --from load instead", and the caller has no step 'load'. It now suggests the
    path that reaches it, ``call/load``, which a restart takes."""
    runtime.push({"name": "etl", "steps": [{"id": "extract", "type": "noop"},
                  {"id": "load", "type": "noop", "depends_on": ["extract"]}]})  # fmt: skip
    runtime.run(
        {
            "name": "caller",
            "steps": [
                {"id": "call", "type": "subworkflow", "workflow": "etl"},
                {"id": "z", "type": "fail", "message": "no", "depends_on": ["call"]},
            ],
        }
    )
    (run,) = runtime.store.list_runs("caller", 10)
    status, body = send(
        "POST",
        f"/runs/{run.run_id}/actions",
        json.dumps({"action": "restart", "from": "call/load/x"}),
    )
    assert status == 400, body
    assert "--from call/load instead" in json.dumps(body), body
    status, body = send(
        "POST",
        f"/runs/{run.run_id}/actions",
        json.dumps({"action": "restart", "from": "call/load"}),
    )
    assert status in (200, 201, 202), body


def test_a_path_that_names_no_iteration_run_says_the_index_range() -> None:
    """``resolve_step_path`` (the step actions', logs' and replay's reading of a path)
    told a 7-digit index only that it "must be an iteration index", as IterationPath.parse
    did; it now says the range too."""
    from podium.core.engine.actions import BadStepPath, resolve_step_path

    with pytest.raises(BadStepPath) as refused:
        resolve_step_path("R", "per_day/1234567/x")
    assert "an iteration index is 0 to 99,999" in str(refused.value), refused.value
