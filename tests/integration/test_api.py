"""The api handler, driven with API Gateway HTTP API (v2) events on the embedded runtime."""

from __future__ import annotations

import json
from typing import Any

from podium.handlers import api
from podium.local.runtime import LocalRuntime

WORKFLOW = {
    "name": "api_wf",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}],
}


def call(
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    raw = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "headers": {"content-type": content_type},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": raw,
        "isBase64Encoded": False,
    }
    response = api.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_push_start_and_read_a_run(runtime: LocalRuntime) -> None:
    status, body = call("POST", "/workflows", WORKFLOW)
    assert (status, body) == (
        201,
        {"name": "api_wf", "version": 1, "created": True, "active_version": 1},
    )
    status, body = call("POST", "/workflows", WORKFLOW)
    assert (status, body["created"], body["version"]) == (200, False, 1)  # same content

    status, run = call("POST", "/workflows/api_wf/runs", {"params": {"n": 3}, "run_id": "tok-1"})
    assert status == 202 and run["run_id"] == "tok-1" and run["params"] == {"n": 3}
    status, again = call("POST", "/workflows/api_wf/runs", {"run_id": "tok-1"})
    assert status == 202 and again["run_id"] == "tok-1"  # a retried start is one run

    runtime.pump()
    status, body = call("GET", "/runs/tok-1")
    assert status == 200 and body["run"]["status"] == "SUCCEEDED"
    assert [(s["step"], s["status"], s["attempts"]) for s in body["steps"]] == [
        ("a", "SUCCEEDED", 1),
        ("b", "SUCCEEDED", 1),
    ]

    status, body = call("GET", "/workflows/api_wf/runs", query={"limit": "5"})
    assert status == 200 and [r["run_id"] for r in body["runs"]] == ["tok-1"]
    status, body = call("GET", "/workflows/api_wf")
    assert status == 200 and body["version"] == 1 and body["definition"]["name"] == "api_wf"


def test_yaml_bodies_are_accepted(runtime: LocalRuntime) -> None:
    yaml_text = "name: from_yaml\nsteps:\n  - {id: a, type: noop}\n"
    status, body = call("POST", "/workflows", yaml_text, content_type="application/yaml")
    assert (status, body["name"]) == (201, "from_yaml")


def test_bad_requests_name_the_place_and_the_fix(runtime: LocalRuntime) -> None:
    status, body = call(
        "POST",
        "/workflows",
        {"name": "x", "steps": [{"id": "a", "type": "noop", "depends_on": ["b"]}]},
    )
    assert status == 400
    assert body["errors"] == [{"path": "steps[0].depends_on[0]", "message": "unknown step 'b'"}]

    status, body = call("POST", "/workflows", "{not json")
    assert status == 400 and body["errors"][0]["path"] == "body"

    call("POST", "/workflows", WORKFLOW)
    status, body = call("POST", "/workflows/api_wf/runs", {"params": {"n": "x"}, "extra": 1})
    assert status == 400
    assert body["errors"][0]["path"] == "body.extra"
    status, body = call("POST", "/workflows/api_wf/runs", {"params": {"n": "x"}})
    assert status == 400 and body["errors"][0]["path"] == "body.params.n"  # as body errors

    status, body = call("GET", "/workflows/api_wf/runs", query={"limit": "1000"})
    assert status == 400 and body["errors"][0]["path"] == "query.limit"


def test_unknown_things_are_404(runtime: LocalRuntime) -> None:
    assert call("GET", "/runs/nope")[0] == 404
    status, body = call("POST", "/workflows/nope/runs", {})
    assert status == 404 and "push it first" in body["message"]
    assert call("GET", "/workflows/nope")[0] == 404


def test_a_run_of_many_steps_comes_in_pages(runtime: LocalRuntime, monkeypatch: Any) -> None:
    """Every step came in one response: past a few thousand steps (or a few hundred with
    8 KiB outputs) it passed Lambda's 6 MB response limit and the route failed."""
    from podium.service import views

    steps = [{"id": f"s{i:03}", "type": "noop"} for i in range(25)]
    assert call("POST", "/workflows", {"name": "wide", "steps": steps})[0] == 201
    assert call("POST", "/workflows/wide/runs", {"run_id": "wide-1"})[0] == 202
    runtime.pump()
    status, first = call("GET", "/runs/wide-1", query={"limit": "10"})
    assert status == 200 and len(first["steps"]) == 10 and first["steps_total"] == 25
    assert first["next"] == views.steps_token((9, "s009")) and first["run"]["status"] == "SUCCEEDED"
    seen = [s["step"] for s in first["steps"]]
    token: str | None = first["next"]
    while token:
        status, page = call("GET", "/runs/wide-1", query={"limit": "10", "next": token})
        seen += [s["step"] for s in page["steps"]]
        token = page.get("next")
    assert seen == [s["id"] for s in steps]
    # A page also stops at a size, one step at least.
    monkeypatch.setattr(views, "STEPS_PAGE_BYTES", 1)
    status, tiny = call("GET", "/runs/wide-1")
    assert (
        status == 200 and len(tiny["steps"]) == 1 and tiny["next"] == views.steps_token((0, "s000"))
    )
    for bad in ("x", "-1", "1" * 12):
        status, body = call("GET", "/runs/wide-1", query={"next": bad})
        assert status == 400 and "query.next" in json.dumps(body), body
    assert call("GET", "/runs/wide-1", query={"limit": "0"})[0] == 400


def test_a_workflows_runs_come_in_pages(runtime: LocalRuntime) -> None:
    """GET /workflows/{name}/runs had no `next`: past the newest `limit` (at most a few
    hundred), a workflow's older runs could not be listed."""
    assert (
        call("POST", "/workflows", {"name": "paged", "steps": [{"id": "a", "type": "noop"}]})[0]
        == 201
    )
    for i in range(5):
        assert call("POST", "/workflows/paged/runs", {"run_id": f"p-{i}"})[0] == 202
        runtime.clock.advance(1000)  # type: ignore[attr-defined]
    seen: list[str] = []
    token: str | None = None
    while True:
        query = {"limit": "2", **({"next": token} if token else {})}
        status, page = call("GET", "/workflows/paged/runs", query=query)
        assert status == 200
        seen += [r["run_id"] for r in page["runs"]]
        token = page.get("next")
        if not token:
            break
    assert seen == [f"p-{i}" for i in range(4, -1, -1)]
    status, body = call("GET", "/workflows/paged/runs", query={"next": "garbage"})
    assert status == 400 and "query.next" in json.dumps(body)
