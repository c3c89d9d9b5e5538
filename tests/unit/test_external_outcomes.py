"""The pure rules of the external step types: what a service's reported state means,
names carrying attempt keys, callback tokens, and the HTTP allow-list."""

from __future__ import annotations

from podium.core.engine.callbacks import attempt_of, token_of
from podium.core.engine.external import (
    Phase,
    batch_job_outcome,
    dotted_name,
    ecs_run_failures,
    ecs_started_by,
    ecs_task_outcome,
    glue_run_outcome,
    key_of_dotted,
    key_of_started_by,
    parse_key,
    poll_after_seconds,
    safe_name,
    sfn_execution_outcome,
)
from podium.core.engine.http_rules import Target, host_allowed, judge
from podium.service.http_urls import parse_url


def test_ecs_exit_codes_and_stop_codes() -> None:
    ok = ecs_task_outcome(
        {"taskArn": "t", "lastStatus": "STOPPED", "containers": [{"name": "a", "exitCode": 0}]}
    )
    assert ok.phase is Phase.SUCCEEDED and ok.output == {"task_arn": "t", "exit_code": 0}
    sidecar_failed = {
        "lastStatus": "STOPPED",
        "containers": [{"name": "main", "exitCode": 0}, {"name": "side", "exitCode": 1}],
    }
    assert ecs_task_outcome(sidecar_failed, "main").phase is Phase.SUCCEEDED
    assert ecs_task_outcome(sidecar_failed).phase is Phase.FAILED
    spot = ecs_task_outcome(
        {"lastStatus": "STOPPED", "stopCode": "SpotInterruption", "containers": [{"name": "a"}]}
    )
    assert spot.error is not None and spot.error.type == "Podium.PlatformError"
    assert spot.error.retryable
    stopped = ecs_task_outcome(
        {"lastStatus": "STOPPED", "stopCode": "UserInitiated", "stoppedReason": "by ops"}
    )
    assert stopped.error is not None and stopped.error.type == "Podium.Stopped"
    assert ecs_task_outcome({"lastStatus": "RUNNING"}).phase is Phase.RUNNING
    capacity = ecs_run_failures([{"reason": "RESOURCE:MEMORY"}])
    assert capacity.type == "Podium.PlatformError"
    missing = ecs_run_failures([{"reason": "MISSING"}])
    assert missing.type == "Podium.ConfigError" and not missing.retryable


def test_batch_glue_and_sfn_states() -> None:
    assert batch_job_outcome({"jobId": "j", "status": "RUNNABLE"}).phase is Phase.RUNNING
    spot = batch_job_outcome(
        {"jobId": "j", "status": "FAILED", "statusReason": "Host EC2 (instance i-1) terminated."}
    )
    assert spot.error is not None and spot.error.type == "Podium.PlatformError"
    code = batch_job_outcome(
        {"jobId": "j", "status": "FAILED", "attempts": [{"container": {"exitCode": 3}}]}
    )
    assert code.error is not None and code.error.type == "Podium.UserError"
    assert glue_run_outcome({"Id": "r", "JobRunState": "STOPPING"}).phase is Phase.RUNNING
    timeout = glue_run_outcome({"jobRunId": "r", "state": "TIMEOUT"})
    assert timeout.error is not None and timeout.error.type == "Podium.Timeout"
    done = sfn_execution_outcome({"executionArn": "a", "status": "SUCCEEDED", "output": "[1]"})
    assert done.output["output"] == [1]
    aborted = sfn_execution_outcome({"executionArn": "a", "status": "ABORTED"})
    assert aborted.error is not None and aborted.error.type == "Podium.Stopped"


def test_names_carry_the_attempt_key() -> None:
    key = "01KDVDNA00AD3DAJ2JEGH4GZTS/train/2"
    child = "01KDVDNA00AD3DAJ2JEGH4GZTS.sweep.3/train/2"  # a loop iteration's run
    assert parse_key(child) == ("01KDVDNA00AD3DAJ2JEGH4GZTS.sweep.3", "train", 2)
    for k in (key, child, "run-id_7/s/1"):
        assert key_of_started_by(ecs_started_by(k)) == k
        assert key_of_dotted(dotted_name(k)) == k
    assert ecs_started_by(key) == key
    assert ecs_started_by(child) == "01KDVDNA00AD3DAJ2JEGH4GZTS/sweep/3/train/2"
    assert dotted_name(child) == "01KDVDNA00AD3DAJ2JEGH4GZTS.sweep.3.train.2"
    long_key = "r/" + "s" * 150 + "/1"
    assert ecs_started_by(long_key).startswith("podium-")
    assert key_of_started_by(ecs_started_by(long_key)) is None  # a digest: polling only
    assert key_of_dotted(dotted_name("r/" + "s" * 100 + "/1")) is None
    assert key_of_started_by("ecs-svc/123") is None and key_of_started_by("") is None
    name = safe_name(key, 128)
    assert name == safe_name(key, 128) and name != safe_name(key.replace("/2", "/3"), 128)
    assert attempt_of(token_of(child)) == ("01KDVDNA00AD3DAJ2JEGH4GZTS.sweep.3", "train", 2)
    assert attempt_of("pcb1_!!!") is None and attempt_of("nope") is None


def test_polls_back_off_with_age() -> None:
    assert poll_after_seconds(0) == 30
    assert poll_after_seconds(400_000) == 200
    assert poll_after_seconds(10**9) == 300


def test_the_http_allow_list() -> None:
    def target(url: str) -> Target:
        parsed = parse_url(url)
        assert isinstance(parsed, Target)
        return parsed

    allowed = ["api.example.com", "*.corp.example", "localhost:8080"]
    assert host_allowed(target("https://api.example.com/x"), allowed)
    assert host_allowed(target("https://a.b.corp.example/"), allowed)
    assert not host_allowed(target("https://corp.example/"), allowed)
    assert not host_allowed(target("https://api.example.com.evil.io/"), allowed)
    assert host_allowed(target("http://localhost:8080/"), allowed)
    assert not host_allowed(target("http://localhost:9090/"), allowed)
    assert not host_allowed(target("https://api.example.com/"), [])
    assert isinstance(parse_url("https://user:pw@api.example.com/"), str)
    assert isinstance(parse_url("file:///etc/passwd"), str)


def test_http_statuses() -> None:
    assert judge(204, None, {}, None) is None
    bad = judge(404, {"e": 1}, {}, None)
    assert bad is not None and not bad.retryable
    assert judge(429, None, {}, None).retryable  # type: ignore[union-attr]
    assert judge(502, "down", {}, None).retryable  # type: ignore[union-attr]
    assert judge(500, None, {}, "response.status == 500") is None


def test_a_glue_run_that_expired_waiting_is_a_platform_error() -> None:
    """Glue's ``EXPIRED`` (a run Glue gave up starting, left WAITING for resources) fell
    into the FAILED/ERROR branch: a user error blaming the job's code. It is the
    platform's doing: a retryable ``Podium.PlatformError``."""
    expired = glue_run_outcome({"Id": "r", "JobRunState": "EXPIRED"})
    assert expired.phase is Phase.FAILED
    assert expired.error is not None and expired.error.type == "Podium.PlatformError"
    assert expired.error.retryable


def test_a_batch_job_killed_at_its_own_timeout_is_a_timeout() -> None:
    """Batch kills an attempt that passes the job definition's ``attemptDurationSeconds``
    (statusReason "Job attempt duration exceeded timeout", the container's exit 137):
    it read as the code's exit (``Podium.UserError``, code 137) or, with no exit code,
    an outage (``Podium.PlatformError``). It is ``Podium.Timeout``, as Glue's own
    TIMEOUT and Step Functions' TIMED_OUT are."""
    for container in ({"exitCode": 137}, {}):
        job = {
            "jobId": "j",
            "status": "FAILED",
            "statusReason": "Job attempt duration exceeded timeout",
            "container": container,
        }
        outcome = batch_job_outcome(job)
        assert outcome.error is not None and outcome.error.type == "Podium.Timeout", container
