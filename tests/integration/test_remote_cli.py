"""The CLI against a deployed stack, on moto: endpoint discovery from the stack's outputs,
SigV4 signing, push/start/runs, and the error paths with their exit codes.

The "deployment" is a CloudFormation stack on moto (its queues, bucket and outputs), the
table made from the shared schema, and a local HTTP server that checks each request's
SigV4 signature before handing it to the real api handler (tests/integration/remote_support).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner, Result

from podium import bootstrap
from podium.adapters.clock import SystemClock, UlidGenerator
from podium.adapters.dynamo_store import DynamoStateStore
from podium.adapters.queues import SqsQueue
from podium.adapters.runners import LocalFunctionRunner, RoutingRunner
from podium.adapters.table_schema import create_table
from podium.cli.main import app
from podium.service.context import Services
from podium.service.runtimes.registry import RUNTIMES
from tests.integration import remote_support as rs

STACK = "podium-test"
runner = CliRunner()

WORKFLOW_YAML = """\
name: remote_wf
params:
  n: {type: int}
  flag: {type: bool, default: false}
  tags: {type: list, default: []}
  label: {type: string, default: x}
steps:
  - {id: a, type: noop}
  - {id: dbl, type: lambda, function: "tests.integration.remote_support:double", depends_on: [a]}
"""
FAILING_YAML = """\
name: remote_fail
steps:
  - {id: a, type: noop}
  - {id: boom, type: fail, message: "disk full on shard 7", depends_on: [a]}
"""


@dataclass
class Deployed:
    gateway: rs.ApiGateway
    sqs: Any
    outputs: dict[str, str]

    def pump(self) -> int:
        return rs.pump(self.sqs, self.outputs["EventQueueUrl"], self.outputs["WorkQueueUrl"])


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with mock_aws(), rs.ApiGateway() as gateway:
        cf = boto3.client("cloudformation", region_name=rs.REGION)
        cf.create_stack(
            StackName=STACK, TemplateBody=json.dumps(rs.stack_template(gateway.url, "podium-state"))
        )
        # A stack that is not a Podium stack (no ApiUrl output).
        cf.create_stack(
            StackName="not-podium",
            TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
        )
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cf.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        }
        db = boto3.client("dynamodb", region_name=rs.REGION)
        sqs = boto3.client("sqs", region_name=rs.REGION)
        create_table(db, outputs["TableName"])
        clock = SystemClock()
        # The api function's wiring, built from the stack's outputs like its environment.
        bootstrap.install(
            Services(
                runtimes=RUNTIMES,
                store=DynamoStateStore(db, outputs["TableName"]),
                work_queue=SqsQueue(sqs, outputs["WorkQueueUrl"]),
                event_queue=SqsQueue(sqs, outputs["EventQueueUrl"]),
                runner=RoutingRunner(LocalFunctionRunner(), None),
                clock=clock,
                ids=UlidGenerator(clock),
            )
        )
        try:
            yield Deployed(gateway, sqs, outputs)
        finally:
            bootstrap.install(None)
    assert not gateway.failures, gateway.failures


@pytest.fixture
def user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A user's shell: the test credentials, a region, no Podium config, wide tables.
    Returns the config file path (not created)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "PODIUM_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", rs.ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rs.SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", rs.REGION)
    # Nothing from the machine running the tests: AWS files, instance metadata, proxies.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    config = tmp_path / "podium.toml"
    monkeypatch.setenv("PODIUM_CONFIG", str(config))
    monkeypatch.setenv("COLUMNS", "200")
    return config


def podium(*args: str) -> Result:
    return runner.invoke(app, list(args))


def on_stack(*args: str) -> Result:
    return podium(*args, "--stack", STACK)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_push_start_list_and_show_through_the_signed_api(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    wf = write(tmp_path, "wf.yaml", WORKFLOW_YAML)
    result = on_stack("push", str(wf))
    assert result.exit_code == 0, result.output
    assert "pushed remote_wf v1" in result.output
    result = on_stack("push", str(wf))
    assert result.exit_code == 0 and "remote_wf v1 unchanged" in result.output

    # Params are typed by the pushed definition's specs, as `podium run` types them.
    result = on_stack(
        "start", "remote_wf", "-p", "n=21", "-p", "flag=yes", "-p", 'tags=["a","b"]',
        "-p", "label=42", "--run-id", "run-1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    started = json.loads(result.stdout)
    assert started["run_id"] == "run-1" and started["status"] in ("QUEUED", "RUNNING")
    assert started["params"] == {"n": 21, "flag": True, "tags": ["a", "b"], "label": "42"}
    assert started["trigger"] == "api"

    assert deployed.pump() > 0
    result = on_stack("runs", "list", "remote_wf", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "run-1" in result.output and "SUCCEEDED" in result.output

    result = on_stack("runs", "show", "run-1")
    assert result.exit_code == 0, result.output
    assert "remote_wf v1 · run run-1" in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "SUCCEEDED" in lines["a"] and "SUCCEEDED" in lines["dbl"]
    assert '{"doubled":42}' in lines["dbl"]
    assert "run succeeded" in result.output

    result = on_stack("runs", "show", "run-1", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["run"]["status"] == "SUCCEEDED"
    assert [(s["step"], s["status"], s["attempts"]) for s in body["steps"]] == [
        ("a", "SUCCEEDED", 1),
        ("dbl", "SUCCEEDED", 1),
    ]
    assert body["steps"][1]["output"] == {"doubled": 42}

    # --version runs an older version, typed by that version's specs (v2 makes n a double).
    v2 = write(tmp_path, "wf2.yaml", WORKFLOW_YAML.replace("n: {type: int}", "n: {type: double}"))
    assert "pushed remote_wf v2" in on_stack("push", str(v2)).output
    result = on_stack("start", "remote_wf", "--version", "1", "-p", "n=2", "--json")
    assert result.exit_code == 0, result.output
    old = json.loads(result.stdout)
    assert old["version"] == 1 and type(old["params"]["n"]) is int
    result = on_stack("start", "remote_wf", "-p", "n=2", "--json")
    new = json.loads(result.stdout)
    assert new["version"] == 2 and type(new["params"]["n"]) is float
    deployed.pump()

    # Every request reached the handler signed for execute-api in the stack's region.
    api_calls = [s for s in deployed.gateway.seen if s.status != 403]
    assert api_calls and all(
        s.scope.endswith("/us-east-1/execute-api/aws4_request") for s in api_calls
    )
    assert ("GET", "/workflows/remote_wf") in {(s.method, s.path) for s in api_calls}


def test_a_failed_run_shows_its_step_error_and_the_run_error(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "f.yaml", FAILING_YAML))).exit_code == 0
    result = on_stack("start", "remote_fail")
    assert result.exit_code == 0, result.output
    run_id = result.output.split("started run ")[1].split()[0]
    assert f"podium runs show {run_id}" in result.output
    deployed.pump()

    result = on_stack("runs", "show", run_id)
    assert result.exit_code == 1, result.output  # a failed run, as locally
    boom = next(line for line in result.output.splitlines() if "│ boom" in line)
    assert "FAILED" in boom and "disk full on shard 7" in boom
    assert "run failed" in result.output and "error: " in result.output

    result = on_stack("runs", "list", "remote_fail", "--json")
    assert [r["status"] for r in json.loads(result.stdout)["runs"]] == ["FAILED"]


def test_api_errors_exit_1_with_each_path(deployed: Deployed, user: Path, tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.yaml",
        "name: bad\nsteps:\n  - {id: extract, type: noop}\n"
        "  - {id: load, type: noop, depends_on: [extrct]}\n  - {id: x, type: lamda}\n",
    )
    result = on_stack("push", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: invalid request (HTTP 400), 2 problem(s)" in result.output
    assert (
        "✗ steps[1].depends_on[0]: unknown step 'extrct' (did you mean 'extract'?)" in result.output
    )
    assert "✗ steps[2].type: unknown step type 'lamda'" in result.output

    assert on_stack("push", str(write(tmp_path, "wf.yaml", WORKFLOW_YAML))).exit_code == 0
    result = on_stack("start", "remote_wf", "-p", "n=many")
    assert result.exit_code == 1 and "✗ body.params.n:" in result.output
    result = on_stack("start", "remote_wf")  # n has no default
    assert result.exit_code == 1 and "params.n" in result.output
    result = on_stack("start", "nope", "-p", "n=1")
    assert result.exit_code == 1 and "HTTP 404" in result.output
    result = on_stack("runs", "show", "no-such-run")
    assert result.exit_code == 1 and "HTTP 404" in result.output
    result = on_stack("runs", "list", "remote_wf", "--limit", "500")
    assert result.exit_code == 2  # typer checks the range before any request
    result = on_stack("start", "remote_wf", "-p", "novalue")
    assert result.exit_code == 2 and "use key=value" in result.output


def test_target_errors_exit_2_with_a_clear_message(deployed: Deployed, user: Path) -> None:
    result = podium("runs", "list", "remote_wf", "--stack", "nope")
    assert result.exit_code == 2
    assert "stack 'nope' not found in us-east-1" in result.output

    result = podium("runs", "list", "remote_wf")  # no flags, no config: the default stack
    assert result.exit_code == 2
    assert "stack 'Podium' not found in us-east-1: no target was given" in result.output

    result = podium("runs", "list", "remote_wf", "--stack", "not-podium")
    assert result.exit_code == 2 and "has no ApiUrl output" in result.output

    result = podium("runs", "list", "remote_wf", "--stack", STACK, "--endpoint", "http://x")
    assert result.exit_code == 2 and "either --stack or --endpoint" in result.output

    result = podium("runs", "list", "remote_wf", "--endpoint", "ftp://x")
    assert result.exit_code == 2 and "not an http(s) URL" in result.output


def test_missing_credentials_or_region_exit_2(
    deployed: Deployed, user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = on_stack("runs", "list", "remote_wf")
    assert result.exit_code == 2 and "no AWS region" in result.output
    assert on_stack("runs", "list", "remote_wf", "--region", "us-east-1").exit_code == 0

    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = on_stack("runs", "list", "remote_wf", "--region", "us-east-1")
    assert result.exit_code == 2 and "no AWS credentials found" in result.output

    monkeypatch.setenv("AWS_PROFILE", "ghost")
    result = on_stack("runs", "list", "remote_wf", "--region", "us-east-1")
    assert result.exit_code == 2 and "ghost" in result.output


def test_requests_without_a_valid_signature_are_refused(
    deployed: Deployed, user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in gateway really checks: an unsigned request never reaches the handler.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{deployed.gateway.url}/runs/x", timeout=5)
    assert refused.value.code == 403

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    result = on_stack("runs", "list", "remote_wf")
    assert result.exit_code == 1
    assert "signature we calculated does not match" in result.output
    assert "HTTP 403" in result.output and "execute-api:Invoke" in result.output


def test_profiles_and_endpoints_from_the_config_file(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    user.write_text(
        f'[default]\nstack = "{STACK}"\nregion = "us-east-1"\n\n'
        f'[direct]\nendpoint = "{deployed.gateway.url}/"\nregion = "us-east-1"\n'
    )
    assert on_stack("push", str(write(tmp_path, "wf.yaml", WORKFLOW_YAML))).exit_code == 0
    for args in ((), ("--profile", "direct"), ("--endpoint", deployed.gateway.url)):
        result = podium("runs", "list", "remote_wf", "--json", *args)
        assert result.exit_code == 0, (args, result.output)
        assert "runs" in json.loads(result.stdout)

    result = podium("runs", "list", "remote_wf", "--profile", "prod")
    assert result.exit_code == 2
    assert f"profile 'prod' not found in {user} (profiles: default, direct)" in result.output

    user.write_text('[default]\nstak = "typo"\n')
    result = podium("runs", "list", "remote_wf")
    assert result.exit_code == 2 and "unknown key(s) stak" in result.output

    user.write_text("[default\n")
    result = podium("runs", "list", "remote_wf")
    assert result.exit_code == 2 and "invalid TOML" in result.output


def test_the_signing_region_comes_from_an_execute_api_host() -> None:
    from podium.cli.remote import signing_region

    url = "https://abc123.execute-api.eu-west-3.amazonaws.com"
    assert signing_region(url, "us-east-1") == "eu-west-3"
    assert signing_region("https://api.example.com", "us-east-1") == "us-east-1"


STRICT_YAML = """
name: remote_strict
run_strategy: strict_sequential
steps:
  - {id: boom, type: fail, message: nope}
"""


def test_unblock_lets_a_strict_queue_move_on(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "s.yaml", STRICT_YAML))).exit_code == 0
    first = json.loads(on_stack("start", "remote_strict", "--json").stdout)["run_id"]
    second = json.loads(on_stack("start", "remote_strict", "--json").stdout)["run_id"]
    deployed.pump()
    body = json.loads(on_stack("runs", "show", second, "--json").stdout)
    assert body["run"]["status"] == "QUEUED"
    assert f"blocked by failed run {first}" in body["run"]["waiting"]
    table = on_stack("runs", "show", second)
    assert "waiting: queued at position 1 of 1; the queue is blocked by failed run" in table.output
    result = on_stack("unblock", "remote_strict")
    assert result.exit_code == 0, result.output
    assert (
        f"unblocked remote_strict (blocked by failed run {first}); started {second}"
        in result.output
    )
    deployed.pump()
    assert (
        json.loads(on_stack("runs", "show", second, "--json").stdout)["run"]["status"] == "FAILED"
    )
    assert on_stack("unblock", "nope").exit_code == 1


def test_runs_logs_reads_an_attempts_lines_from_cloudwatch(deployed: Deployed, user: Path) -> None:
    """An attempt of a deployed lambda step records its function and the invocation's
    request id; `podium runs logs RUN STEP --stack` reads that invocation's lines (from
    START to END, print() lines included) through the signed API."""
    import time

    from podium.adapters.cloudwatch_logs import CloudWatchLogReader
    from podium.core.engine.records import RunRecord, StepRecord
    from podium.core.engine.status import RunStatus, StepStatus

    ctx = bootstrap.services()
    logs = boto3.client("logs", region_name=rs.REGION)
    ctx.logs = CloudWatchLogReader(logs)
    now = int(time.time() * 1000)  # CloudWatch refuses events older than 14 days
    ctx.store.create_run(RunRecord("logrun", "wf", 1, RunStatus.SUCCEEDED, {}, now, sinks_total=1))
    ref = {
        "function": "arn:aws:lambda:us-east-1:123456789012:function:etl-load",
        "request_id": "rid-2",
    }
    ctx.store.create_step(
        StepRecord(
            "logrun",
            "load",
            StepStatus.SUCCEEDED,
            attempt=1,
            started_at=now,
            ended_at=now + 900,
            log_ref=ref,
        )
    )
    logs.create_log_group(logGroupName="/aws/lambda/etl-load")
    logs.create_log_stream(logGroupName="/aws/lambda/etl-load", logStreamName="s1")
    lines = [
        "START RequestId: rid-1 Version: $LATEST",
        "someone else's line",
        "END RequestId: rid-1",
        "START RequestId: rid-2 Version: $LATEST",
        "loaded 42 rows",
        "END RequestId: rid-2",
        "REPORT RequestId: rid-2 Duration: 3 ms",
    ]
    logs.put_log_events(
        logGroupName="/aws/lambda/etl-load",
        logStreamName="s1",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(lines)],
    )
    result = on_stack("runs", "logs", "logrun", "load")
    assert result.exit_code == 0, result.output
    assert "loaded 42 rows" in result.output and "someone else" not in result.output
    assert "rid-2" in result.output
    missing = on_stack("runs", "logs", "logrun", "load", "--attempt", "3")
    assert missing.exit_code != 0 and "no attempt 3" in missing.output


WAITING_YAML = """\
name: remote_waits
steps:
  - id: w
    type: lambda
    function: "tests.integration.test_remote_cli:rows_doubled"
    wait_for: [{signal: table_ready, match: {rows: {op: ">=", value: 10}}}]
    params: {n: "${signal.table_ready.params.rows}"}
"""


def rows_doubled(event: dict[str, Any]) -> dict[str, Any]:
    return {"doubled": event["step_params"]["n"] * 2}


def test_a_signal_sent_with_the_cli_releases_a_waiting_step_on_the_stack(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    """DynamoDB signals, the wake-up through SQS, POST /signals and podium signal send."""
    wf = write(tmp_path, "waits.yaml", WAITING_YAML)
    assert on_stack("push", str(wf)).exit_code == 0
    result = on_stack("start", "remote_waits", "--run-id", "wait-1", "--json")
    assert result.exit_code == 0, result.output
    deployed.pump()
    body = json.loads(on_stack("runs", "show", "wait-1", "--json").stdout)
    assert body["steps"][0]["status"] == "WAITING_FOR_SIGNALS"

    result = on_stack("signal", "send", "table_ready", "-p", "rows=3")
    assert result.exit_code == 0 and "sent" in result.output
    deployed.pump()
    body = json.loads(on_stack("runs", "show", "wait-1", "--json").stdout)
    assert body["steps"][0]["status"] == "WAITING_FOR_SIGNALS"

    result = on_stack("signal", "send", "table_ready", "-p", "rows=12", "--json")
    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)
    assert sent["created"] is True and sent["params"] == {"rows": 12}
    again = json.loads(on_stack("signal", "send", "table_ready", "-p", "rows=12", "--json").stdout)
    assert again["created"] is False and again["signal_id"] == sent["signal_id"]
    deployed.pump()
    body = json.loads(on_stack("runs", "show", "wait-1", "--json").stdout)
    assert body["run"]["status"] == "SUCCEEDED", body
    assert body["steps"][0]["output"] == {"doubled": 24}

    result = on_stack("signal", "send", "bad name!")
    assert result.exit_code == 1 and "name" in result.output


APPROVAL_YAML = """
name: remote_approval
steps:
  - {id: approve, type: approval, message: "ship it?", approvers: [alice]}
  - {id: ship, type: noop, depends_on: [approve]}
"""


def test_callback_through_the_signed_api(deployed: Deployed, user: Path, tmp_path: Path) -> None:
    assert on_stack("push", str(write(tmp_path, "a.yaml", APPROVAL_YAML))).exit_code == 0
    run_id = json.loads(on_stack("start", "remote_approval", "--json").stdout)["run_id"]
    deployed.pump()
    shown = on_stack("runs", "show", run_id)
    assert "approve ship it?" in shown.output and "podium callback pcb1_" in shown.output
    body = json.loads(on_stack("runs", "show", run_id, "--json").stdout)
    (token,) = [e["detail"]["token"] for e in body["events"] if e["kind"] == "callback_token"]
    refused = on_stack("callback", token, "--success", "{}", "--by", "bob")
    assert refused.exit_code == 1 and "may not decide" in refused.output
    given = on_stack("callback", token, "--success", "{}", "--by", "alice", "--json")
    assert given.exit_code == 0, given.output
    assert json.loads(given.stdout)["accepted"] == "success"
    deployed.pump()
    body = json.loads(on_stack("runs", "show", run_id, "--json").stdout)
    assert body["run"]["status"] == "SUCCEEDED"
    again = on_stack("callback", token, "--fail", "too late", "--by", "alice")
    assert again.exit_code == 1 and "no longer waiting" in again.output


LOOP_YAML = """
name: remote_loop
steps:
  - id: each
    type: foreach
    over: {i: "${podium.range(0, 6)}"}
    concurrency: 2
    on_failure: continue
    tolerated_failures: 6
    steps:
      - {id: gate, type: noop}
      - {id: boom, type: fail, message: "odd row", depends_on: [{step: gate, when: "iteration.i % 2 == 1"}]}
"""


def test_a_loop_steps_iterations_through_the_signed_api(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "loop.yaml", LOOP_YAML))).exit_code == 0
    result = on_stack("start", "remote_loop", "--run-id", "loop-run")
    assert result.exit_code == 0, result.output
    deployed.pump()

    result = on_stack("runs", "show", "loop-run", "--step", "each", "--limit", "4")
    assert result.exit_code == 0, result.output
    assert "3 succeeded · 3 failed" in result.output
    assert "odd row" in result.output
    assert "--step each --next 4" in result.output

    result = on_stack("runs", "show", "loop-run", "--step", "each", "--failed-only", "--json")
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert [it["index"] for it in page["iterations"]] == [1, 3, 5]
    assert page["next"] is None and page["counts"]["failed"] == 3


PAGED_YAML = "name: remote_paged\nsteps:\n  - {id: a, type: noop}\n"


def test_runs_list_pages_past_its_limit(deployed: Deployed, user: Path, tmp_path: Path) -> None:
    """`podium runs list` showed the newest 100 runs at most, with no way to older ones
    (the API pages with `next`, the CLI did not). It prints the command for the next
    page (`--next TOKEN`, the same filters) and takes it; a token of nothing is exit 2."""
    assert on_stack("push", str(write(tmp_path, "p.yaml", PAGED_YAML))).exit_code == 0
    for _ in range(5):
        assert on_stack("start", "remote_paged").exit_code == 0
    seen: list[str] = []
    args = ["runs", "list", "remote_paged", "--limit", "2", "--json"]
    token = None
    for _ in range(4):
        body = json.loads(on_stack(*args, *(["--next", token] if token else [])).stdout)
        seen += [r["run_id"] for r in body["runs"]]
        token = body.get("next")
        if token is None:
            break
    assert len(seen) == 5 == len(set(seen))
    shown = on_stack("runs", "list", "remote_paged", "--limit", "2")
    assert (
        "more: podium runs list remote_paged --limit 2 --stack podium-test --next " in shown.output
    )
    assert on_stack("runs", "list", "remote_paged", "--next", "nonsense").exit_code == 2
