"""The action routes of the api handler on moto (DynamoDB, SQS): each run and step
action, the 409 of a refused one, idempotent request ids, and who acted."""

from __future__ import annotations

import json
from typing import Any

from podium.handlers import api
from podium.local.runtime import LocalRuntime

SLEEPY = {
    "name": "sleepy",
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 3600},
        {"id": "after", "type": "noop", "depends_on": ["wait"]},
    ],
}
FAILING = {
    "name": "failing",
    "params": {"day": {"type": "string", "default": "mon"}},
    "steps": [
        {"id": "a", "type": "noop"},
        {"id": "b", "type": "lambda", "function": f"{__name__}:load", "depends_on": ["a"]},
        {"id": "c", "type": "noop", "depends_on": ["b"]},
    ],
}
BROKEN = {"feed": True}


def load(event: dict[str, Any]) -> str:
    if BROKEN["feed"]:
        raise ValueError("bad feed")
    return "loaded"


USER = "arn:aws:iam::123456789012:user/oncall"


def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "authorizer": {"iam": {"userArn": USER, "accountId": "123456789012"}},
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }  # fmt: skip
    response = api.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def _waiting_run(runtime: LocalRuntime) -> str:
    runtime.push(SLEEPY)
    run = runtime.start_run("sleepy")
    for _ in range(20):
        runtime.pump(max_deliveries=1)
        steps = {s.step: s.status.value for s in runtime.describe(run.run_id).steps}
        if steps.get("wait") == "RUNNING":
            return run.run_id
    raise AssertionError(steps)


def test_pause_resume_and_stop_a_run_through_the_api(runtime: LocalRuntime) -> None:
    run_id = _waiting_run(runtime)
    status, body = call("POST", f"/runs/{run_id}/actions", {"action": "pause", "reason": "look"})
    assert (status, body["status"], body["by"]) == (200, "PAUSED", USER)
    status, body = call("POST", f"/runs/{run_id}/actions", {"action": "pause"})
    assert status == 409 and body["code"] == "action_refused"
    assert (body["current"], body["allowed"]) == ("PAUSED", ["kill", "resume", "stop"])
    assert "it is PAUSED; allowed from PAUSED: kill, resume, stop" in body["message"]
    status, body = call("POST", f"/runs/{run_id}/actions", {"action": "resume"})
    assert (status, body["status"]) == (200, "RUNNING")
    request = {"action": "stop", "reason": "runaway", "request_id": "stop-1"}
    status, body = call("POST", f"/runs/{run_id}/actions", request)
    assert (status, body["status"], body["repeated"]) == (200, "STOPPED", False)
    status, body = call("POST", f"/runs/{run_id}/actions", request)  # a retried request
    assert (status, body["status"], body["repeated"]) == (200, "STOPPED", True)
    status, body = call("GET", f"/runs/{run_id}")
    assert body["run"]["status"] == "STOPPED"
    assert {s["step"]: s["status"] for s in body["steps"]} == {"wait": "STOPPED"}
    actions = [e for e in body["events"] if e["kind"] == "action"]
    assert [e["detail"]["action"] for e in actions] == ["pause", "resume", "stop"]
    assert actions[0]["detail"]["by"] == USER and actions[0]["detail"]["reason"] == "look"


def test_restart_and_step_actions_through_the_api(runtime: LocalRuntime) -> None:
    BROKEN["feed"] = True
    runtime.push(FAILING)
    run = runtime.start_run("failing")
    runtime.pump()
    assert runtime.describe(run.run_id).run.status.value == "FAILED"
    BROKEN["feed"] = False  # the fix
    body_in = {"action": "restart", "params": {"day": "tue"}, "request_id": "re-1"}
    status, body = call("POST", f"/runs/{run.run_id}/actions", body_in)
    assert status == 200 and body["new_run"] == f"{run.run_id}-r1"
    runtime.pump()
    status, new = call("GET", f"/runs/{body['new_run']}")
    assert new["run"]["status"] == "SUCCEEDED" and new["run"]["restart_of"] == run.run_id
    steps = {s["step"]: s for s in new["steps"]}
    assert steps["a"]["status"] == "SUCCEEDED" and "reused from run" in steps["a"]["reason"]
    assert steps["b"]["status"] == "SUCCEEDED" and new["run"]["params"] == {"day": "tue"}

    # Step actions: a run that ended refuses them, naming the way out.
    status, body = call(
        "POST", f"/runs/{run.run_id}/steps/actions", {"step": "b", "action": "skip"}
    )
    assert status == 409 and "podium runs restart" in body["message"]
    run_id = _waiting_run(runtime)
    status, body = call("POST", f"/runs/{run_id}/steps/actions", {"step": "wait", "action": "stop"})
    assert (status, body["status"], body["step"]) == (200, "STOPPED", "wait")
    runtime.pump()
    assert runtime.describe(run_id).run.status.value == "FAILED"


def test_bad_action_requests_are_400s_naming_the_place(runtime: LocalRuntime) -> None:
    runtime.push(SLEEPY)
    run = runtime.start_run("sleepy")
    cases = [
        ({"action": "explode"}, "body.action"),
        ({"action": "stop", "from": "a"}, "body.from"),
        ({"action": "stop", "extra": 1}, "body.extra"),
        ({"action": "restart", "version": "newest"}, "body.version"),
    ]
    for request, path in cases:
        status, body = call("POST", f"/runs/{run.run_id}/actions", request)
        assert status == 400, (request, body)
        assert body["errors"][0]["path"].startswith(path), body
    status, body = call(
        "POST", f"/runs/{run.run_id}/steps/actions", {"step": "a/x/b", "action": "skip"}
    )
    assert status == 400 and body["errors"][0]["path"] == "body.step"
    status, body = call(
        "POST", f"/runs/{run.run_id}/steps/actions", {"step": "nope", "action": "skip"}
    )
    assert status == 404
    status, body = call("POST", "/runs/missing/actions", {"action": "stop"})
    assert status == 404
