"""An unknown step in ``GET /runs/{id}/replay`` and ``/iterations``: a 404 naming the
steps the run has, as docs/operations.md (Limits) says of every unknown step."""

from __future__ import annotations

import json

from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WORKFLOW = {
    "name": "steps404",
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "noop", "depends_on": ["a"]},
        {
            "id": "per_item",
            "type": "foreach",
            "over": {"i": [1, 2]},
            "depends_on": ["b"],
            "steps": [{"id": "work", "type": "noop"}],
        },
    ],
}


def test_replay_of_a_step_the_run_lacks_is_404(memory_rt: LocalRuntime) -> None:
    """``GET /runs/{id}/replay?step=nope`` answered 400 ``invalid_request``, while logs,
    iterations and the console's step view answered 404 ``not_found`` for the same
    unknown step. It is a 404 naming the steps (and the one meant, when close)."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", "/workflows/steps404/runs", {"run_id": "rp1"})[0] == 202
    memory_rt.pump()
    status, logs = call("GET", "/runs/rp1/logs", query={"step": "nope"})
    assert status == 404, logs
    status, body = call("GET", "/runs/rp1/replay", query={"step": "nope"})
    assert (status, body["code"]) == (404, "not_found"), json.dumps(body)
    assert "one of: a, b, per_item" in body["message"], body
    assert [e["path"] for e in body["errors"]] == ["query.step"], body
    status, body = call("GET", "/runs/rp1/replay", query={"step": "per_iten"})
    assert status == 404, body
    assert "did you mean 'per_item'" in body["message"], body


def test_iterations_of_an_unknown_step_name_the_steps(memory_rt: LocalRuntime) -> None:
    """``GET /runs/{id}/iterations?step=per_iten`` answered "run X has no step
    'per_iten'" and nothing else, the same as for a loop step not started yet. A step
    the run does not have is named with the ones it has; one not started says so."""
    assert call("POST", "/workflows", WORKFLOW)[0] == 201
    assert call("POST", "/workflows/steps404/runs", {"run_id": "it1"})[0] == 202
    status, body = call("GET", "/runs/it1/iterations", query={"step": "per_item"})
    assert (status, body["code"]) == (404, "not_found"), body
    assert "not started" in body["message"], body
    status, body = call("GET", "/runs/it1/iterations", query={"step": "per_iten"})
    assert (status, body["code"]) == (404, "not_found"), body
    assert "did you mean 'per_item'" in body["message"], body
    assert "one of: a, b, per_item" in body["message"], body
