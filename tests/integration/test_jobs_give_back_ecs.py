"""An ECS RunTask refused as throttled is given back (READY, its permits released, the
same attempt claimed again after a backoff, on no retry) and asks again under the same
``clientToken``, a digest of the attempt key: through the same core plan as a Batch or
Glue start whose look-up was throttled (core/engine/plans.plan_start_give_back). Before,
the attempt polled for a task that never started, found none, and spent a platform
retry on it (a new key, a new token).

moto plays ECS, but moto's RunTask ignores ``clientToken``: ``Ecs`` below plays the
throttling and, where a test says so, ECS's keeping of tokens (a RunTask asked again
with a token that started a task answers with that task)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from podium.adapters.clock import ManualClock
from podium.adapters.jobs.ecs import EcsTasks
from podium.core.dsl.load import validate_definition
from podium.core.engine.external import Phase, ecs_client_token
from podium.core.engine.retry import MAX_START_GIVE_BACKS, PLATFORM_BUDGET, give_backs_counter
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.ports import JobRequest
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

from .external_support import manual_ecs_tasks, moto_ecs_task

REGION = "us-east-1"
ECS_STEP = {
    "type": "ecs_task",
    "cluster": "ml",
    "task_definition": "train",
    "launch_type": "FARGATE",
}


def refusal(call: str, code: str = "ThrottlingException", status: int = 400) -> ClientError:
    error = {
        "Error": {"Code": code, "Message": "Rate exceeded"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(error, call)


class Ecs:
    """moto's ECS client, with:
    - ``refuse[call]``: that many calls refused (ThrottlingException) before they act;
    - ``accept_then_throttle``: that many RunTasks act, then answer ThrottlingException
      (botocore's retry of a call ECS accepted, throttled: the task runs, unseen);
    - ``keep_tokens``: RunTask asked again with a token that started a task answers
      with that task, as ECS does (moto starts another).
    Every RunTask's arguments are kept (``run_tasks``)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.refuse: dict[str, int] = {}
        self.accept_then_throttle = 0
        self.keep_tokens = False
        self.run_tasks: list[dict[str, Any]] = []
        self._tokens: dict[str, dict[str, Any]] = {}

    def run_task(self, **kwargs: Any) -> Any:
        self.run_tasks.append(kwargs)
        if self.refuse.get("run_task", 0) > 0:
            self.refuse["run_task"] -= 1
            raise refusal("RunTask")
        token = kwargs.get("clientToken", "")
        if self.keep_tokens and token in self._tokens:
            return self._tokens[token]
        resp = self.client.run_task(**kwargs)
        self._tokens[token] = resp
        if self.accept_then_throttle > 0:
            self.accept_then_throttle -= 1
            raise refusal("RunTask")
        return resp

    def list_tasks(self, **kwargs: Any) -> Any:
        if self.refuse.get("list_tasks", 0) > 0:
            self.refuse["list_tasks"] -= 1
            raise refusal("ListTasks")
        return self.client.list_tasks(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


@pytest.fixture
def ecs(rt: LocalRuntime) -> Iterator[Ecs]:
    with manual_ecs_tasks():
        client = boto3.client("ecs", region_name=REGION)
        client.create_cluster(clusterName="ml")
        client.register_task_definition(
            family="train",
            networkMode="bridge",
            containerDefinitions=[{"name": "trainer", "image": "x", "memory": 512}],
        )
        wrapped = Ecs(client)
        rt.services.jobs = {"ecs_task": EcsTasks(wrapped)}
        yield wrapped


def one_step(**step: Any) -> dict[str, Any]:
    return {"name": "e", "steps": [{"id": "job", **ECS_STEP, **step}]}


def record_of(rt: LocalRuntime, run_id: str) -> Any:
    record = rt.store.get_step(run_id, "job")
    assert record is not None
    return record


def tasks(ecs: Ecs) -> list[str]:
    return list(ecs.client.list_tasks(cluster="ml")["taskArns"])


def until_claimed_again(rt: LocalRuntime, run_id: str) -> None:
    """Past the give-back's backoff (at most MAX_GIVE_BACK_SECONDS), not past a poll."""
    for _ in range(20):
        if record_of(rt, run_id).status is StepStatus.RUNNING:
            return
        rt.clock.advance(5_000)  # type: ignore[union-attr]
        rt.pump(wait=False)
    raise AssertionError(record_of(rt, run_id))


def test_a_throttled_run_task_is_given_back_and_runs_under_the_same_token(
    rt: LocalRuntime, ecs: Ecs
) -> None:
    rt.push(one_step(retries=0, concurrency={"key": "gpu", "limit": 1}))
    run = rt.start_run("e")
    ecs.refuse["run_task"] = 2
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    # Given back: READY before attempt 1, its permit released, no retry spent.
    assert (record.status, record.attempt) == (StepStatus.READY, 0)
    assert record.retry_counts == {give_backs_counter(1): 1}
    assert rt.store.permits().state("gpu").holders == {}
    (said,) = [e for e in rt.store.list_events(run.run_id) if e.kind == "give_back"]
    assert said.detail["error"].startswith("Podium.PlatformError: ECS RunTask: Throttling")
    until_claimed_again(rt, run.run_id)  # given back once more, then the task runs
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert record.retry_counts == {give_backs_counter(1): 2}
    key = f"{run.run_id}/job/1"
    assert [k["clientToken"] for k in ecs.run_tasks] == [ecs_client_token(key)] * 3
    assert not [e for e in rt.store.list_events(run.run_id) if e.kind in ("retry", "failed")]
    (arn,) = tasks(ecs)
    moto_ecs_task("ml", arn, exit_code=0)
    rt.pump()
    assert record_of(rt, run.run_id).status is StepStatus.SUCCEEDED
    assert rt.store.get_run(run.run_id).status is RunStatus.SUCCEEDED


def test_a_run_task_accepted_but_answered_throttled_is_found_and_not_run_twice(
    rt: LocalRuntime, ecs: Ecs
) -> None:
    """botocore retried a RunTask ECS had accepted, and the retry was throttled: the
    task runs. Given back, the claim after the backoff finds it by the attempt key."""
    rt.push(one_step())
    run = rt.start_run("e")
    ecs.accept_then_throttle = 1
    rt.pump(wait=False)
    assert record_of(rt, run.run_id).status is StepStatus.READY
    until_claimed_again(rt, run.run_id)
    assert len(ecs.run_tasks) == 1 and len(tasks(ecs)) == 1  # found: not asked again
    assert record_of(rt, run.run_id).retry_counts == {give_backs_counter(1): 1}


def test_a_run_task_asked_again_by_its_token_is_the_task_it_started(
    rt: LocalRuntime, ecs: Ecs
) -> None:
    """As above, and the look-up of the claim after the backoff is throttled too: the
    start asks RunTask again, under the same token, and ECS (played: moto ignores the
    token) answers with the task that token started."""
    rt.push(one_step())
    run = rt.start_run("e")
    ecs.accept_then_throttle = 1
    ecs.keep_tokens = True
    rt.pump(wait=False)
    ecs.refuse["list_tasks"] = 1
    until_claimed_again(rt, run.run_id)
    assert len(ecs.run_tasks) == 2
    assert ecs.run_tasks[0]["clientToken"] == ecs.run_tasks[1]["clientToken"]
    assert len(tasks(ecs)) == 1


def test_a_run_task_throttled_past_its_give_backs_fails_and_retries_under_a_new_token(
    rt: LocalRuntime, ecs: Ecs
) -> None:
    rt.push(one_step())
    run = rt.start_run("e")
    ecs.refuse["run_task"] = 10_000
    rt.pump()
    record = record_of(rt, run.run_id)
    attempts = PLATFORM_BUDGET.max_attempts + 1
    assert (record.status, record.attempt) == (StepStatus.FAILED, attempts)
    assert record.error_type == "Podium.PlatformError"
    tokens = [k["clientToken"] for k in ecs.run_tasks]
    assert len(tokens) == attempts * (MAX_START_GIVE_BACKS + 1)
    assert tokens[: MAX_START_GIVE_BACKS + 1] == [ecs_client_token(f"{run.run_id}/job/1")] * (
        MAX_START_GIVE_BACKS + 1
    )
    assert len(set(tokens)) == attempts  # one token per attempt
    assert tasks(ecs) == []


def test_a_run_task_failing_with_a_server_error_polls_and_keeps_its_permit(
    rt: LocalRuntime, ecs: Ecs
) -> None:
    """A 5xx may come after ECS started the task: that is not given back (its permit
    would go to another step while the task runs), but polled, as before."""
    rt.push(one_step(concurrency={"key": "gpu", "limit": 1}))
    run = rt.start_run("e")
    real = ecs.client.run_task

    def server_error(**kwargs: Any) -> Any:
        real(**kwargs)  # ECS acted, then failed its answer
        raise refusal("RunTask", "ServerException", 500)

    ecs.client.run_task = server_error
    rt.pump(wait=False)
    record = record_of(rt, run.run_id)
    assert (record.status, record.attempt) == (StepStatus.RUNNING, 1)
    assert list(rt.store.permits().state("gpu").holders) == [f"{run.run_id}/job"]
    assert len(tasks(ecs)) == 1


def test_a_run_task_conflict_names_the_tasks_the_attempts_token_started() -> None:
    """RunTask asked again under a token with other parameters answers ConflictException
    with the tasks the token started: the attempt's (its token is no one else's)."""

    class Conflicting:
        def list_tasks(self, **kwargs: Any) -> Any:
            return {"taskArns": []}

        def run_task(self, **kwargs: Any) -> Any:
            error = {
                "Error": {"Code": "ConflictException", "Message": "token in use"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
                "resourceIds": ["arn:aws:ecs:us-east-1:123:task/ml/t1"],
            }
            raise ClientError(error, "RunTask")

        def describe_tasks(self, **kwargs: Any) -> Any:
            assert kwargs["tasks"] == ["arn:aws:ecs:us-east-1:123:task/ml/t1"]
            return {"tasks": [{"taskArn": kwargs["tasks"][0], "lastStatus": "RUNNING"}]}

    spec = validate_definition({"name": "w", "steps": [{"id": "e", **ECS_STEP}]}).steps[0]
    outcome = EcsTasks(Conflicting()).start(JobRequest("ecs_task", "r1/e/1", spec, {}))
    assert outcome.phase is Phase.RUNNING and outcome.handle.endswith("/t1")


def test_a_run_stopped_while_its_ecs_start_is_given_back_stops_the_task(
    rt: LocalRuntime, ecs: Ecs
) -> None:
    """The task a RunTask answered as throttled started after all; the run is stopped
    during the give-back's backoff: the stop reaches that task."""
    rt.push(one_step())
    run = rt.start_run("e")
    ecs.accept_then_throttle = 1
    rt.pump(wait=False)
    assert record_of(rt, run.run_id).status is StepStatus.READY
    stop_run(rt.services, run.run_id, "stopped by a test")
    rt.pump()
    assert record_of(rt, run.run_id).status is StepStatus.STOPPED
    (arn,) = tasks(ecs)
    (task,) = ecs.client.describe_tasks(cluster="ml", tasks=[arn])["tasks"]
    assert task["desiredStatus"] == "STOPPED"
    assert len(ecs.run_tasks) == 1
