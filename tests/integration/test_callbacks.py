"""wait_for_callback, approval and lambda invocation: async: the token published (bus
and timeline), callbacks through the service, the API route and the CLI (against a
local home), heartbeats, the step timeout, and a callback racing the timeout."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.engine.callbacks import attempt_of, token_of
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.callbacks import CallbackRefused, callback, parse_callback

from .test_api import call

HERE = "tests.integration.test_callbacks"
TOKENS: list[str] = []


def start_job(event: dict[str, Any]) -> str:
    """An async lambda: hands its token to "the job" and returns at once."""
    TOKENS.append(event["callback_token"])
    return "ignored"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def waiting(name: str = "cb", **step: Any) -> dict[str, Any]:
    return {
        "name": name,
        "params": {"table": {"type": "string", "default": "sales"}},
        "steps": [
            {
                "id": "wait",
                "type": "wait_for_callback",
                "payload": {"table": "${params.table}"},
                **step,
            },
            {
                "id": "after",
                "type": "noop",
                "depends_on": [{"step": "wait", "when": "steps.wait.output.rows > 0"}],
            },
        ],
    }


def begin(rt: LocalRuntime, wf: dict[str, Any]) -> tuple[str, str]:
    rt.push(wf)
    run = rt.start_run(wf["name"])
    rt.pump(wait=False)
    published = [
        e
        for e in rt.services.events.published  # type: ignore[union-attr]
        if e["detail-type"] == "Podium Callback Token" and e["detail"]["run_id"] == run.run_id
    ]
    assert len(published) == 1
    return run.run_id, published[0]["detail"]["token"]


def send(rt: LocalRuntime, token: str, body: dict[str, Any]) -> dict[str, Any]:
    return callback(rt.services, token, parse_callback(body))


def status_of(rt: LocalRuntime, run_id: str, step: str = "wait") -> Any:
    record = rt.store.get_step(run_id, step)
    assert record is not None
    return record


def test_the_token_is_published_and_a_success_callback_is_the_output(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    assert attempt_of(token) == (run_id, "wait", 1)
    event = next(
        e
        for e in rt.services.events.published  # type: ignore[union-attr]
        if e["detail-type"] == "Podium Callback Token"
    )
    assert event["detail"]["payload"] == {"table": "sales"}
    timeline = [e for e in rt.store.list_events(run_id) if e.kind == "callback_token"]
    assert timeline[0].detail["token"] == token  # podium runs show lists it
    assert status_of(rt, run_id).status is StepStatus.RUNNING
    assert send(rt, token, {"success": {"rows": 3}})["accepted"] == "success"
    rt.pump()
    assert status_of(rt, run_id).output == {"rows": 3}
    assert status_of(rt, run_id, "after").status is StepStatus.SUCCEEDED
    with pytest.raises(CallbackRefused, match="no longer waiting"):
        send(rt, token, {"success": {"rows": 4}})  # a second result is refused


def test_a_fail_callback_fails_the_step(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    send(rt, token, {"fail": "the warehouse load failed"})
    rt.pump()
    record = status_of(rt, run_id)
    assert record.status is StepStatus.FAILED
    assert record.error_type == "Podium.CallbackFailed"
    assert "the warehouse load failed" in (record.error or "")
    assert rt.store.get_run(run_id).status is RunStatus.FAILED


def test_heartbeats_keep_it_and_silence_ends_it(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting(heartbeat_seconds=60))
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(50_000)
    send(rt, token, {"heartbeat": True})
    clock.advance(50_000)  # the check at 60 s finds the heartbeat of 50 s
    rt.pump(wait=False)
    assert status_of(rt, run_id).status is StepStatus.RUNNING
    rt.pump()  # silence: the next check, at 110 s, ends it
    record = status_of(rt, run_id)
    assert record.status is StepStatus.TIMED_OUT
    assert "no heartbeat or result for 60 s" in (record.error or "")
    assert record.ended_at is not None and record.started_at is not None
    assert record.ended_at - record.started_at == 110_000


@pytest.mark.parametrize("store", ["memory", "sqlite", "moto"])
def test_heartbeats_are_one_timeline_item_the_check_reads_the_last(store: str) -> None:
    """Each heartbeat used to add a timeline item (keyed by its own time): a day of
    heartbeats every 10 s was 8,640 items in the run's partition, all read by every
    look at the attempt. One item per attempt now, its last time in the detail."""
    home = ":memory:" if store == "sqlite" else None
    with LocalRuntime(store=store, clock=ManualClock(), home=home) as runtime:
        run_id, token = begin(runtime, waiting(heartbeat_seconds=60))
        clock = runtime.clock
        assert isinstance(clock, ManualClock)
        for _ in range(5):
            clock.advance(40_000)
            send(runtime, token, {"heartbeat": True})
        beats = [e for e in runtime.store.list_events(run_id) if e.kind == "heartbeat"]
        assert len(beats) == 1, beats
        record = status_of(runtime, run_id)
        assert record.started_at is not None
        assert beats[0].detail["last_at"] == record.started_at + 200_000
        clock.advance(50_000)  # 250 s: the check finds the last heartbeat (200 s)
        runtime.pump(wait=False)
        assert status_of(runtime, run_id).status is StepStatus.RUNNING
        runtime.pump()  # silence after 200 s: the check at 260 s ends it
        record = status_of(runtime, run_id)
        assert record.status is StepStatus.TIMED_OUT
        assert record.ended_at is not None
        assert record.ended_at - record.started_at == 260_000


def test_the_step_timeout_bounds_the_wait_and_a_late_callback_is_refused(
    rt: LocalRuntime,
) -> None:
    run_id, token = begin(rt, waiting(timeout="5m"))
    rt.pump()
    assert status_of(rt, run_id).status is StepStatus.TIMED_OUT
    with pytest.raises(CallbackRefused, match="attempt 1, TIMED_OUT"):
        send(rt, token, {"success": {}})


@pytest.mark.parametrize("callback_first", [True, False])
def test_a_callback_racing_the_timeout_ends_the_step_once(
    rt: LocalRuntime, callback_first: bool
) -> None:
    run_id, token = begin(rt, waiting(timeout=300))
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    # The callback comes while the attempt still waits (accepted in time, refused
    # after the deadline: deadline_passed, though its done is sent all the same); its
    # message and the deadline's are both due before either is handled.
    clock.advance(299_000 if callback_first else 301_000)
    if callback_first:
        send(rt, token, {"success": {"rows": 1}})
    else:
        with pytest.raises(CallbackRefused, match="after the attempt's deadline") as refused:
            send(rt, token, {"success": {"rows": 1}})
        assert (refused.value.status, refused.value.code) == (409, "deadline_passed")
    clock.advance(2_000)
    rt.pump(wait=False)
    record = status_of(rt, run_id)
    assert record.attempt == 1
    if callback_first:
        assert record.status is StepStatus.SUCCEEDED and record.output == {"rows": 1}
    else:
        assert record.status is StepStatus.TIMED_OUT and record.output is None
    rt.pump()
    assert status_of(rt, run_id).status is record.status  # the loser changed nothing


def test_an_approval_checks_its_approvers(rt: LocalRuntime) -> None:
    wf = {
        "name": "deploy",
        "params": {"model": {"type": "string", "default": "m-7"}},
        "steps": [
            {
                "id": "approve",
                "type": "approval",
                "message": "deploy ${params.model}?",
                "approvers": ["alice", "bob"],
            },
            {"id": "ship", "type": "noop", "depends_on": ["approve"]},
        ],
    }
    rt.push(wf)
    run = rt.start_run("deploy")
    rt.pump(wait=False)
    event = rt.services.events.published[-1]  # type: ignore[union-attr]
    assert event["detail"]["message"] == "deploy m-7?"
    assert event["detail"]["approvers"] == ["alice", "bob"]
    token = event["detail"]["token"]
    with pytest.raises(CallbackRefused, match="'mallory' may not decide"):
        send(rt, token, {"success": {}, "by": "mallory"})
    with pytest.raises(CallbackRefused, match="without --by"):
        send(rt, token, {"success": {}})
    send(rt, token, {"success": {}, "by": "alice", "comment": "metrics look fine"})
    rt.pump()
    record = status_of(rt, run.run_id, "approve")
    assert record.output == {"approved": True, "by": "alice", "comment": "metrics look fine"}
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_a_rejection_fails_the_approval_without_retry(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "deploy2",
            "steps": [{"id": "approve", "type": "approval", "message": "ok?", "retries": 3}],
        }
    )
    run = rt.start_run("deploy2")
    rt.pump(wait=False)
    token = token_of(f"{run.run_id}/approve/1")
    send(rt, token, {"fail": "accuracy dropped", "by": "bob"})
    rt.pump()
    record = status_of(rt, run.run_id, "approve")
    assert record.status is StepStatus.FAILED and record.attempt == 1
    assert record.error_type == "Podium.Rejected"
    assert "rejected by bob" in (record.error or "")


def test_the_api_route(rt: LocalRuntime) -> None:
    run_id, token = begin(rt, waiting())
    assert call("POST", f"/callbacks/{token}", {"heartbeat": True})[0] == 202
    status, body = call("POST", f"/callbacks/{token}", {"success": 1, "fail": "x"})
    assert status == 400 and "exactly one" in body["message"]
    status, body = call("POST", "/callbacks/pcb1_bm9wZQ", {"success": {}})
    assert status == 404
    status, body = call("POST", "/callbacks/not-a-token", {"success": {}})
    assert status == 404 and "not a Podium callback token" in body["message"]
    status, body = call("POST", f"/callbacks/{token}", {"success": {"rows": 2}})
    assert (status, body["accepted"], body["run_id"]) == (202, "success", run_id)
    rt.pump()
    status, body = call("POST", f"/callbacks/{token}", {"success": {"rows": 2}})
    assert status == 409 and body["code"] == "not_waiting"
    assert status_of(rt, run_id).output == {"rows": 2}


def test_a_step_that_waits_for_no_callback_refuses_one(rt: LocalRuntime) -> None:
    rt.push({"name": "nap", "steps": [{"id": "s", "type": "sleep", "seconds": 60}]})
    run = rt.start_run("nap")
    rt.pump(wait=False)
    with pytest.raises(CallbackRefused, match="takes no callbacks"):
        send(rt, token_of(f"{run.run_id}/s/1"), {"success": {}})


def test_an_async_lambda_holds_no_worker_and_completes_by_callback(rt: LocalRuntime) -> None:
    TOKENS.clear()
    rt.push(
        {
            "name": "long_fn",
            "steps": [
                {
                    "id": "train",
                    "type": "lambda",
                    "function": f"{HERE}:start_job",
                    "invocation": "async",
                    "payload": {"epochs": 3},
                }
            ],
        }
    )
    run = rt.start_run("long_fn")
    rt.pump(wait=False)
    import time

    for _ in range(100):  # the function runs on a thread of its own
        if TOKENS:
            break
        time.sleep(0.01)
    assert [token_of(f"{run.run_id}/train/1")] == TOKENS
    assert status_of(rt, run.run_id, "train").status is StepStatus.RUNNING  # "ignored" dropped
    send(rt, TOKENS[0], {"success": {"model": "s3://m/7"}})
    rt.pump()
    assert status_of(rt, run.run_id, "train").output == {"model": "s3://m/7"}


def test_podium_callback_against_the_local_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(waiting("cli_cb"))
        run = rt.start_run("cli_cb")
        rt.pump(wait=False)
        run_id = run.run_id
    token = token_of(f"{run_id}/wait/1")
    runner = CliRunner()
    shown = runner.invoke(app, ["runs", "show", run_id, "--home", str(home)])
    assert f"podium callback {token} --success JSON" in shown.output
    result = runner.invoke(
        app, ["callback", token, "--success", '{"rows": 5}', "--home", str(home), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accepted"] == "success"
    bad = runner.invoke(app, ["callback", token, "--success", "{nope", "--home", str(home)])
    assert bad.exit_code == 2 and "not JSON" in bad.output
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.pump(run_id=run_id)
        assert rt.store.get_run(run_id).status is RunStatus.SUCCEEDED
        assert status_of(rt, run_id).output == {"rows": 5}
    again = runner.invoke(app, ["callback", token, "--fail", "x", "--home", str(home)])
    assert again.exit_code == 1 and "no longer waiting" in again.output


def test_heartbeat_seconds_needs_an_async_lambda() -> None:
    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import validate_definition

    step = {"id": "f", "type": "lambda", "function": "fn", "heartbeat_seconds": 60}
    with pytest.raises(DefinitionError, match="heartbeat_seconds needs invocation: async"):
        validate_definition({"name": "w", "steps": [step]})
    assert validate_definition({"name": "w", "steps": [{**step, "invocation": "async"}]})


def _as(arn: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST through the api handler as an IAM identity (API Gateway's authorizer)."""
    from podium.handlers import api

    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "test",
            },
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
            "authorizer": {
                "iam": {
                    "userArn": arn,
                    "accountId": "123456789012",
                    "callerId": "AIDA",
                    "accessKey": "AKIA",
                    "userId": "AIDA",
                }
            },
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
    response = api.handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_approvers_listed_as_iam_arns_are_matched_by_the_callers_identity(
    rt: LocalRuntime,
) -> None:
    alice = "arn:aws:iam::123456789012:user/alice"
    rt.push(
        {
            "name": "iam_approval",
            "steps": [
                {"id": "approve", "type": "approval", "message": "ok?", "approvers": [alice]}
            ],
        }
    )
    run = rt.start_run("iam_approval")
    rt.pump(wait=False)
    token = token_of(f"{run.run_id}/approve/1")
    # Naming alice is not being alice: the ARN is checked against the identity.
    status, body = _as(
        "arn:aws:iam::123456789012:user/mallory",
        f"/callbacks/{token}",
        {"success": {}, "by": alice},
    )
    assert status == 403 and body["code"] == "not_an_approver"
    status, _ = _as(alice, f"/callbacks/{token}", {"success": {}})
    assert status == 202
    rt.pump()
    assert status_of(rt, run.run_id, "approve").output["by"] == alice


def test_an_approver_role_with_a_wildcard_allows_its_sessions() -> None:
    from podium.service.callbacks import CallbackRequest, may_decide

    role = "arn:aws:sts::123456789012:assumed-role/release/*"
    session = "arn:aws:sts::123456789012:assumed-role/release/alice"
    assert may_decide([role], CallbackRequest("success", caller=session))
    other = "arn:aws:sts::123456789012:assumed-role/releases/alice"
    assert not may_decide([role], CallbackRequest("success", caller=other))
    assert not may_decide([role], CallbackRequest("success", by=session))  # named only


def test_a_waiting_step_shows_its_token_as_its_output(rt: LocalRuntime) -> None:
    """Issue #13: the step publishes its token in its output (while it waits) and on the
    bus; the callback's result replaces it."""
    run_id, token = begin(rt, waiting("shows_token"))
    step = {s.step: s for s in rt.describe(run_id).steps}["wait"]
    assert step.status is StepStatus.RUNNING and step.output == {"callback_token": token}
    send(rt, token, {"success": {"rows": 3}})
    rt.pump(wait=False)
    step = {s.step: s for s in rt.describe(run_id).steps}["wait"]
    assert step.status is StepStatus.SUCCEEDED and step.output == {"rows": 3}
