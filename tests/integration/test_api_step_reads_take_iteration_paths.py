"""The API's step reads (``logs``, ``replay``, ``iterations?step=``) take a step path
into a loop iteration (``LOOP/INDEX/STEP``, as the step actions and the CLI take it) and
answer for that iteration's step. They took a step of the run itself only: the path
was "no step 'each/1/load'" (the CLI turned it into the iteration's run id first; any
other client of the API could not)."""

from __future__ import annotations

from typing import Any

import pytest

from podium.local.runtime import LocalRuntime
from tests.conftest import foreach
from tests.integration.test_api import call
from tests.integration.test_cli_attempts_after_retry_in_place import Invoked

FN = "tests.integration.test_api_step_reads_take_iteration_paths:load"

WORKFLOW = {
    "name": "paths",
    "steps": [
        foreach("each", {"i": [10, 20]}, {"id": "load", "type": "lambda", "function": "loader"}),
        foreach(
            "outer", {"j": [0, 1]}, foreach("inner", {"k": [0, 1, 2]}, {"id": "x", "type": "noop"})
        ),
    ],
}


def load(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """A Lambda stand-in: prints, and returns the iteration's item."""
    print("loading", event["params"])
    return {"loaded": True}


class Lines:
    """A log reader standing in for CloudWatch: one line per invocation."""

    def read(self, function: str, request_id: str, start: int, end: int) -> str:
        return f"{function} {request_id}\n"


@pytest.fixture
def run_id(memory_rt: LocalRuntime) -> str:
    memory_rt.functions["loader"] = FN
    # As a deployed runner: each invocation has a request id (the attempt's log_ref).
    memory_rt.services.runner = Invoked(memory_rt.services.runner)
    memory_rt.services.logs = Lines()
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", "/workflows/paths/runs", {"run_id": "p1"})[0] == 202
    memory_rt.pump()
    return "p1"


def test_replay_takes_an_iteration_step_path(run_id: str) -> None:
    status, body = call("GET", f"/runs/{run_id}/replay", query={"step": "each/1/load"})
    assert status == 200, body
    assert (body["run_id"], body["step"], body["attempt"]) == (f"{run_id}.each.1", "load", 1)
    assert body["recorded"]["status"] == "SUCCEEDED", body


def test_logs_take_an_iteration_step_path(run_id: str) -> None:
    status, body = call("GET", f"/runs/{run_id}/logs", query={"step": "each/0/load"})
    assert status == 200, body
    assert (body["run_id"], body["step"]) == (f"{run_id}.each.0", "load"), body
    assert body["request_id"].startswith("rid-"), body  # that iteration's invocation
    assert body["text"] == f"{body['function']} {body['request_id']}\n", body


def test_iterations_take_a_loop_inside_an_iteration(run_id: str) -> None:
    status, body = call("GET", f"/runs/{run_id}/iterations", query={"step": "outer/1/inner"})
    assert status == 200, body
    assert [i["index"] for i in body["iterations"]] == [0, 1, 2], body


@pytest.mark.parametrize(
    ("route", "path", "status", "said"),
    [
        ("replay", "each/7/load", 404, "iteration 7 of 'each' never ran"),
        ("logs", "each/0/lod", 404, "has no step 'lod'"),
        ("iterations", "outer/1/innr", 404, "has no step 'innr'"),
        ("replay", "each/1/", 400, "LOOP_STEP/INDEX/STEP"),
    ],
)
def test_a_path_to_no_step_names_the_part_at_the_query(
    run_id: str, route: str, path: str, status: int, said: str
) -> None:
    """A part the run has not is a 404 at query.step naming it and what exists (as the
    step actions name it); a malformed path a 400 saying how to write one."""
    got, body = call("GET", f"/runs/{run_id}/{route}", query={"step": path})
    assert got == status, body
    assert [e["path"] for e in body["errors"]] == ["query.step"], body
    assert said in body["errors"][0]["message"], body
