"""The API's answers to inputs an audit found mishandled, on moto through the api handler:
a request id reused with another body (actions, signals, a start's run_id), an empty
backfill of a rate trigger with no word why, unknown triggers, runs and workflows, start
errors named under ``body.``, a wrong method on a served path, backfill's field names,
and the runs list's ``status`` filter (server-side, paged, and the remote CLI's use)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pytest
from typer.testing import CliRunner

from podium.cli.main import app as cli
from podium.core.engine.records import TimelineEvent
from podium.handlers import api
from podium.local.runtime import LocalRuntime
from podium.service import runs as runs_service

USER = "arn:aws:iam::123456789012:user/oncall"

SLEEPY = {
    "name": "sleepy",
    "params": {"day": {"type": "string", "default": "mon"}},
    "steps": [
        {"id": "wait", "type": "sleep", "seconds": 3600},
        {"id": "after", "type": "noop", "depends_on": ["wait"]},
    ],
}
HOURLY = {
    "name": "hourly",
    "triggers": [{"id": "every_hour", "rate": "1 hour"}],
    "steps": [{"id": "a", "type": "noop"}],
}
QUEUE = {  # one run at a time: the first RUNNING (it sleeps), the others QUEUED
    "name": "queue",
    "run_strategy": "sequential",
    "steps": [{"id": "wait", "type": "sleep", "seconds": 3600}],
}


def call(
    method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
) -> tuple[int, Any, dict[str, str]]:
    params = {k: str(v) for k, v in (query or {}).items()}
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(params),
        "queryStringParameters": params or None,
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
    return response["statusCode"], json.loads(response["body"]), response.get("headers") or {}


def _waiting_run(runtime: LocalRuntime, body: dict[str, Any] | None = None) -> str:
    assert call("POST", "/workflows", SLEEPY)[0] in (200, 201)
    status, run, _ = call("POST", "/workflows/sleepy/runs", body or {})
    assert status == 202, run
    for _ in range(20):
        runtime.pump(max_deliveries=1)
        steps = {s.step: s.status.value for s in runtime.describe(run["run_id"]).steps}
        if steps.get("wait") == "RUNNING":
            return str(run["run_id"])
    raise AssertionError(steps)


# -- 1. a request id reused with a different body: 409 naming the field ---------------------
def test_an_action_request_id_reused_with_another_body_is_409(runtime: LocalRuntime) -> None:
    run_id = _waiting_run(runtime)
    first = {"action": "pause", "reason": "look", "request_id": "q1"}
    status, body, _ = call("POST", f"/runs/{run_id}/actions", first)
    assert (status, body["status"], body["repeated"]) == (200, "PAUSED", False)
    status, again, _ = call("POST", f"/runs/{run_id}/actions", first)  # a true retry
    assert (status, again["action"], again["repeated"]) == (200, "pause", True)

    status, body, _ = call("POST", f"/runs/{run_id}/actions", {**first, "action": "stop"})
    assert status == 409 and body["code"] == "request_id_conflict", body
    assert body["message"].startswith(
        "request_id q1 was already used with a different body (action differs); use a new"
    )
    assert body["differs"] == ["action"]
    assert [e["path"] for e in body["errors"]] == ["body.request_id", "body.action"]
    assert runtime.describe(run_id).run.status.value == "PAUSED"  # nothing stopped it

    status, body, _ = call("POST", f"/runs/{run_id}/actions", {**first, "reason": "other"})
    assert status == 409 and body["differs"] == ["reason"], body

    # A step action under the same id names what differs from the first request too.
    step = {"action": "skip", "step": "after", "request_id": "q1"}
    status, body, _ = call("POST", f"/runs/{run_id}/steps/actions", step)
    assert status == 409 and body["differs"] == ["action", "reason", "step"], body


def test_a_step_action_request_id_reused_for_another_step_is_409(runtime: LocalRuntime) -> None:
    run_id = _waiting_run(runtime)
    first = {"action": "stop", "step": "wait", "request_id": "s1"}
    assert call("POST", f"/runs/{run_id}/steps/actions", first)[0] == 200
    status, again, _ = call("POST", f"/runs/{run_id}/steps/actions", first)
    assert status == 200 and again["repeated"] is True
    status, body, _ = call("POST", f"/runs/{run_id}/steps/actions", {**first, "step": "after"})
    assert (
        status == 409 and body["code"] == "request_id_conflict" and body["differs"] == ["step"]
    ), body


def test_an_action_recorded_before_fingerprints_is_answered_as_before(
    runtime: LocalRuntime,
) -> None:
    """A record from before the upgrade has no fingerprint: any body matches it (no
    false 409 for a retry in flight across a deployment)."""
    run_id = _waiting_run(runtime)
    detail = {"action": "pause", "by": USER, "reason": None, "request_id": "old1",
              "status": "PAUSED"}  # fmt: skip
    runtime.services.store.put_event(
        TimelineEvent(run_id, runtime.services.now(), "action-old1", "action", detail=detail)
    )
    status, body, _ = call("POST", f"/runs/{run_id}/actions", {"action": "stop",
                                                                "request_id": "old1"})  # fmt: skip
    assert (status, body["action"], body["repeated"]) == (200, "pause", True), body


def test_the_fingerprint_is_not_shown_on_the_timeline(runtime: LocalRuntime) -> None:
    run_id = _waiting_run(runtime)
    call("POST", f"/runs/{run_id}/actions", {"action": "pause", "request_id": "q2"})
    _, body, _ = call("GET", f"/runs/{run_id}")
    actions = [e for e in body["events"] if e["kind"] == "action"]
    assert actions and all("fingerprint" not in e["detail"] for e in actions)
    _, page, _ = call("GET", f"/console/runs/{run_id}")
    assert page["action_log"] and all("fingerprint" not in a for a in page["action_log"])


def test_a_signal_request_id_reused_with_another_body_is_409(runtime: LocalRuntime) -> None:
    first = {"name": "files_ready", "params": {"day": "mon"}, "payload": {"n": 1},
             "request_id": "sig1"}  # fmt: skip
    status, body, _ = call("POST", "/signals", first)
    assert (status, body["created"]) == (201, True)
    status, again, _ = call("POST", "/signals", first)
    assert (status, again["created"], again["signal_id"]) == (200, False, body["signal_id"])

    status, body, _ = call("POST", "/signals", {**first, "params": {"day": "tue"}})
    assert status == 409 and body["code"] == "request_id_conflict", body
    assert (
        "request_id sig1 was already used with a different body (params differ)"
        in (body["message"])
    )
    status, body, _ = call("POST", "/signals", {**first, "payload": {"n": 2}})
    assert status == 409 and body["differs"] == ["payload"], body
    status, body, _ = call("POST", "/signals", {**first, "ttl_days": 5})
    assert status == 409 and body["differs"] == ["ttl_days"], body


def test_a_start_run_id_reused_with_another_version_or_tags_is_409(
    runtime: LocalRuntime,
) -> None:
    assert call("POST", "/workflows", SLEEPY)[0] == 201
    changed = {**SLEEPY, "steps": [{"id": "wait", "type": "sleep", "seconds": 60}]}
    assert call("POST", "/workflows", changed)[0] == 201  # version 2, active
    first = {"run_id": "tok", "version": 1, "params": {"day": "tue"}, "tags": {"team": "a"}}
    status, run, _ = call("POST", "/workflows/sleepy/runs", first)
    assert status == 202 and run["version"] == 1
    status, again, _ = call("POST", "/workflows/sleepy/runs", first)
    assert status == 202 and again["run_id"] == "tok"  # a true retry: the same run
    status, again, _ = call("POST", "/workflows/sleepy/runs", {"run_id": "tok"})
    assert status == 202 and again["version"] == 1  # only the token: that run

    status, body, _ = call("POST", "/workflows/sleepy/runs", {**first, "version": 2})
    assert status == 409 and body["code"] == "run_id_conflict", body
    assert "started with different version" in body["message"] and body["differs"] == ["version"]
    assert body["run"]["version"] == 1
    status, body, _ = call("POST", "/workflows/sleepy/runs", {**first, "tags": {"team": "b"}})
    assert status == 409 and body["differs"] == ["tags"], body
    status, body, _ = call("POST", "/workflows/sleepy/runs", {**first, "params": {"day": "x"}})
    assert status == 409 and body["differs"] == ["params"], body


# -- 2. an empty backfill of a rate trigger says why ----------------------------------------
def test_a_backfill_before_a_rate_trigger_existed_says_so(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", HOURLY)[0] == 201
    window = {"from": "2020-01-01", "to": "2020-01-31", "dry_run": True}
    status, body, _ = call("POST", "/workflows/hourly/backfill", window)
    assert status == 200 and body["times"] == 0 and body["entries"] == [], body
    assert body["reason"].startswith(
        "the range ends before rate trigger 'every_hour' existed: it was created at"
    ), body
    # A range after its creation (and before now) plans times and has nothing to explain.
    runtime.clock.advance(2 * 86_400_000)
    later = {"from": "2026-01-01", "to": "2026-01-01", "dry_run": True}
    status, body, _ = call("POST", "/workflows/hourly/backfill", later)
    assert status == 200 and body["times"] > 0 and body["reason"] is None, body


# -- 3. an unknown trigger is a 404 ---------------------------------------------------------
def test_enabling_an_unknown_trigger_is_404_naming_it(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", HOURLY)[0] == 201
    for verb in ("enable", "disable"):
        status, body, _ = call("POST", f"/workflows/hourly/triggers/every_hr/{verb}", {})
        assert status == 404 and body["code"] == "not_found", body
        assert "workflow 'hourly' has no trigger 'every_hr'" in body["message"]
        assert "did you mean 'every_hour'" in body["message"]
        assert "podium triggers list hourly" in body["message"]


# -- 4. the logs of a missing run -----------------------------------------------------------
def test_logs_of_a_missing_run_say_the_run_does_not_exist(runtime: LocalRuntime) -> None:
    status, body, _ = call("GET", "/runs/nope/logs", query={"step": "a"})
    assert status == 404 and body["message"] == "run 'nope' not found", body


# -- 5. the console's run list of an unknown workflow ---------------------------------------
def test_console_runs_of_an_unknown_workflow_is_404(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", HOURLY)[0] == 201
    status, body, _ = call("GET", "/console/runs", query={"workflow": "nope"})
    assert status == 404 and body["code"] == "not_found", body
    assert body["message"] == call("GET", "/workflows/nope/runs")[1]["message"]
    assert call("GET", "/console/runs", query={"workflow": "hourly"})[0] == 200


# -- 6. start errors are named under body. --------------------------------------------------
def test_start_errors_are_named_under_body(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", SLEEPY)[0] == 201
    status, body, _ = call("POST", "/workflows/sleepy/runs", {"params": {"day": 3, "dya": "x"}})
    assert status == 400, body
    assert sorted(e["path"] for e in body["errors"]) == ["body.params.day", "body.params.dya"]


# -- 7. a wrong method on a served path -----------------------------------------------------
def test_a_wrong_method_on_a_served_path_is_405_with_allow(runtime: LocalRuntime) -> None:
    status, body, headers = call("DELETE", "/workflows/sleepy/runs")
    assert status == 405 and body["code"] == "method_not_allowed", body
    assert headers["Allow"] == "GET, POST"
    status, body, headers = call("GET", "/runs/r1/actions")
    assert (status, headers.get("Allow")) == (405, "POST")
    status, body, headers = call("GET", "/nowhere")  # no such path: still 404
    assert (status, body["code"], headers.get("Allow")) == (404, "no_route", None)


# -- 8. backfill takes its documented field names only --------------------------------------
def test_backfill_refuses_start_and_end_for_from_and_to(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", HOURLY)[0] == 201
    body = {"start": "2026-01-01", "end": "2026-01-02", "dry_run": True}
    status, answer, _ = call("POST", "/workflows/hourly/backfill", body)
    assert status == 400, answer
    said = {e["path"]: e["message"] for e in answer["errors"]}
    assert "the range is sent as 'from' and 'to'" in said["body.start"]
    assert "body.end" in said and "body.from" in said


# -- 9. the runs list's status filter -------------------------------------------------------
@pytest.fixture
def queue(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """15 runs of a sequential workflow, newest first: 14 QUEUED, the oldest RUNNING. The
    filtered list reads 3 runs a store page and 6 a request, so paging shows."""
    monkeypatch.setattr(runs_service, "_STORE_PAGE", 3)
    monkeypatch.setattr(runs_service, "FILTERED_SCAN", 6)
    assert call("POST", "/workflows", QUEUE)[0] == 201
    ids = []
    for i in range(15):
        status, run, _ = call("POST", "/workflows/queue/runs", {"run_id": f"q{i:02d}"})
        assert status == 202
        ids.append(run["run_id"])
    assert runtime.describe("q00").run.status.value == "RUNNING"
    return ids[::-1]


def test_the_runs_list_filters_by_status_on_the_server_a_page_at_a_time(
    queue: list[str],
) -> None:
    status, body, _ = call("GET", "/workflows/queue/runs", query={"status": "running"})
    assert status == 200 and body["runs"] == [] and body["next"], body  # 6 read, none
    seen, token, calls = [], body["next"], 1
    while token:
        status, body, _ = call(
            "GET", "/workflows/queue/runs", query={"status": "RUNNING", "next": token}
        )
        seen += [r["run_id"] for r in body["runs"]]
        token, calls = body.get("next"), calls + 1
    assert seen == ["q00"] and calls == 3
    status, body, _ = call("GET", "/workflows/queue/runs", query={"status": "queued", "limit": 4})
    assert [r["run_id"] for r in body["runs"]] == queue[:4] and body["next"]
    status, body, _ = call(
        "GET", "/workflows/queue/runs", query={"status": "queued", "limit": 4, "next": body["next"]}
    )
    assert [r["run_id"] for r in body["runs"]] == queue[4:8]


def test_an_unknown_status_is_400_listing_the_valid_ones(runtime: LocalRuntime) -> None:
    assert call("POST", "/workflows", QUEUE)[0] == 201
    status, body, _ = call("GET", "/workflows/queue/runs", query={"status": "RUNING"})
    assert status == 400 and body["errors"][0]["path"] == "query.status", body
    assert "unknown run status 'RUNING'; use one of QUEUED, RUNNING" in body["errors"][0]["message"]


class _ApiClient:
    """The remote CLI's client, straight to the api handler (no HTTP, no signing)."""

    def __init__(self) -> None:
        self.queries: list[dict[str, Any]] = []

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> Any:
        self.queries.append(dict(query or {}))
        status, body, _ = call("GET", path, query=query)
        assert status == 200, body
        return body


def test_remote_runs_list_status_asks_the_server_and_follows_pages(
    queue: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.cli import target_options

    client = _ApiClient()
    monkeypatch.setattr(target_options.TargetArgs, "connect", lambda self: client)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(
        cli, ["runs", "list", "queue", "--status", "running", "--endpoint", "http://api"]
    )
    assert result.exit_code == 0, result.output
    assert "q00" in result.output and "no runs" not in result.output
    assert all(q.get("status") == "RUNNING" for q in client.queries)
    assert len(client.queries) == 3  # followed next past two pages with no match

    result = CliRunner().invoke(
        cli, ["runs", "list", "queue", "--status", "failed", "--endpoint", "http://api"]
    )
    assert result.exit_code == 0, result.output
    assert "no runs of queue match (status FAILED)" in result.output
