"""Each entry of an error answer's "errors" names the place the caller wrote it
(body.<field>, query.<name>, path.<name>), whichever service found the problem."""

from __future__ import annotations

from podium.local.runtime import LocalRuntime

from .test_api import call

WORKFLOW = {
    "name": "places",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [{"id": "a", "type": "noop"}],
}


def test_a_bad_workflow_filter_of_the_console_run_list_names_the_query(
    runtime: LocalRuntime,
) -> None:
    # Was "path.name" (check_workflow_name's fixed place): there is no name in the path.
    status, body = call("GET", "/console/runs", query={"workflow": "bad%20name"})
    assert status == 400, body
    assert [e["path"] for e in body["errors"]] == ["query.workflow"], body


def test_a_replay_of_an_unknown_step_names_the_query(runtime: LocalRuntime) -> None:
    # Was "step" (service/replay.py names its argument).
    call("POST", "/workflows", WORKFLOW)
    _, run = call("POST", "/workflows/places/runs", {})
    status, body = call("GET", f"/runs/{run['run_id']}/replay", query={"step": "zz"})
    assert status == 404, body  # a step the run lacks, as logs and iterations answer
    assert [e["path"] for e in body["errors"]] == ["query.step"], body


def test_a_restart_with_a_bad_param_names_the_body_field(runtime: LocalRuntime) -> None:
    # Was "params.n"; the same param in a start is named body.params.n.
    call("POST", "/workflows", WORKFLOW)
    _, run = call("POST", "/workflows/places/runs", {})
    runtime.pump()
    status, body = call(
        "POST", f"/runs/{run['run_id']}/actions", {"action": "restart", "params": {"n": "x"}}
    )
    assert status == 400, body
    assert [e["path"] for e in body["errors"]] == ["body.params.n"], body
