"""``ecs_task`` on Amazon ECS: RunTask under a ``clientToken`` that is a digest of the
attempt key (so a RunTask asked again, after a lost answer or a throttled refusal, is
the same task), found again by ``startedBy`` (the attempt key), DescribeTasks,
StopTask; the output's logs link comes from the task definition's ``awslogs``
configuration."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import quote

from podium.adapters.jobs.aws_errors import (
    asked_failed,
    is_api_error,
    is_throttled_error,
    is_transient_error,
    raise_if_transient,
    start_failed,
    throttled_start,
)
from podium.core.engine.external import (
    JobOutcome,
    Phase,
    ecs_client_token,
    ecs_run_failures,
    ecs_started_by,
    ecs_task_outcome,
    running,
)
from podium.core.engine.text_fields import as_text
from podium.core.ports import JobRequest

log = logging.getLogger("podium.jobs")


class EcsTasks:
    def __init__(self, client: Any) -> None:
        self._ecs = client
        self._log_configs: dict[str, dict[str, Any]] = {}  # task definition ARN -> ...
        self._lock = threading.Lock()

    def start(self, request: JobRequest) -> JobOutcome:
        spec = request.spec
        try:
            arns = self._task_arns(request)
        except Exception as exc:
            if not is_transient_error(exc):
                return asked_failed(_on_cluster("ListTasks", spec), exc)  # for good: fails
            # Throttled (or the service down): whether the attempt's task exists is not
            # known, and RunTask's clientToken (the attempt's) keeps it to one task
            # either way: started, rather than left to a poll that would find nothing.
            log.warning("ECS ListTasks failed, RunTask by the attempt's token: %s", exc)
            arns = []
        if arns:
            return self._described(request, arns)  # started before: the same task
        kwargs: dict[str, Any] = {
            "cluster": spec.cluster,
            "taskDefinition": spec.task_definition,
            "count": 1,
            "startedBy": ecs_started_by(request.key),
            # The same token again is the same task: a start whose answer was lost and
            # is repeated (its message redelivered) starts nothing new.
            "clientToken": ecs_client_token(request.key),
            "tags": [{"key": "podium:attempt", "value": request.key[:256]}],
        }
        override = _container_override(spec.container, request.rendered)
        if override is not None:
            kwargs["overrides"] = {"containerOverrides": [override]}
        if spec.launch_type is not None:
            kwargs["launchType"] = spec.launch_type
        if spec.capacity_provider is not None:
            kwargs["capacityProviderStrategy"] = _strategy(spec.capacity_provider)
        if spec.network is not None:
            kwargs["networkConfiguration"] = {
                "awsvpcConfiguration": {
                    "subnets": list(spec.network.subnets),
                    "securityGroups": list(spec.network.security_groups),
                    "assignPublicIp": "ENABLED" if spec.network.assign_public_ip else "DISABLED",
                }
            }
        try:
            resp = self._ecs.run_task(**kwargs)
        except Exception as exc:
            if is_throttled_error(exc):
                # Refused for its rate: the attempt is given back and asks again after a
                # backoff, under the same clientToken (ECS keeps a RunTask token up to
                # 24 hours, docs/operations.md; the give-backs take minutes).
                # Polling instead found no task, and spent a retry on a start that
                # never happened.
                return throttled_start("ECS RunTask", exc)
            started = _token_tasks(exc)
            if started:
                return self._described(request, started)  # the token ran them: ours
            # A 5xx or a lost answer may come after ECS started the task: it is polled
            # (holding its permits) and found by the attempt key, or not.
            return start_failed(_run_task(spec), exc)
        tasks = resp.get("tasks") or []
        if not tasks:
            return JobOutcome(Phase.FAILED, error=ecs_run_failures(resp.get("failures") or []))
        return ecs_task_outcome(tasks[0], spec.container)

    def find(self, request: JobRequest) -> JobOutcome | None:
        try:
            arns = self._task_arns(request)
        except Exception as exc:
            return asked_failed(_on_cluster("ListTasks", request.spec), exc)  # throttled: later
        return self._described(request, arns) if arns else None

    def _task_arns(self, request: JobRequest) -> list[str]:
        """The tasks started by the attempt, running or stopped (raises what ListTasks
        raised)."""
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            resp = self._ecs.list_tasks(
                cluster=request.spec.cluster,
                startedBy=ecs_started_by(request.key),
                desiredStatus=desired,
            )
            arns.extend(resp.get("taskArns") or [])
        return arns

    def _described(self, request: JobRequest, arns: list[str]) -> JobOutcome:
        spec = request.spec
        try:
            tasks = self._ecs.describe_tasks(cluster=spec.cluster, tasks=arns[:1]).get("tasks")
        except Exception as exc:
            return asked_failed(_on_cluster("DescribeTasks", spec), exc)  # throttled: later
        if not tasks:
            return running(arns[0])
        return ecs_task_outcome(tasks[0], spec.container)

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        if not outcome.handle:
            return outcome
        logs = self._logs_link(request, outcome.handle)
        if logs is None:
            return outcome
        output = {**outcome.output, "logs": logs}
        return JobOutcome(outcome.phase, outcome.handle, output, outcome.error)

    def stop(self, request: JobRequest, reason: str) -> None:
        spec = request.spec
        try:
            resp = self._ecs.list_tasks(
                cluster=spec.cluster,
                startedBy=ecs_started_by(request.key),
                desiredStatus="RUNNING",
            )
            for arn in resp.get("taskArns") or []:
                self._ecs.stop_task(cluster=spec.cluster, task=arn, reason=reason[:255])
        except Exception as exc:
            raise_if_transient(exc)  # throttled: the caller's message is retried

    def _logs_link(self, request: JobRequest, task_arn: str) -> str | None:
        """The CloudWatch console page of the container's log stream (``awslogs``):
        ``group / prefix/container/task-id``."""
        spec = request.spec
        try:
            task = self._ecs.describe_tasks(cluster=spec.cluster, tasks=[task_arn])["tasks"][0]
            definition_arn = str(task["taskDefinitionArn"])
            with self._lock:
                configs = self._log_configs.get(definition_arn)
            if configs is None:
                definition = self._ecs.describe_task_definition(taskDefinition=definition_arn)
                configs = {
                    str(c.get("name")): (c.get("logConfiguration") or {})
                    for c in definition["taskDefinition"].get("containerDefinitions", [])
                }
                with self._lock:
                    self._log_configs[definition_arn] = configs
        except Exception as exc:
            if not is_api_error(exc) and not isinstance(exc, (KeyError, IndexError)):
                raise
            return None  # a link is a convenience: never a reason to fail the step
        name = spec.container or next(iter(configs), None)
        config = configs.get(name or "") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or "awslogs-group" not in options:
            return None
        region = options.get("awslogs-region") or self._ecs.meta.region_name
        prefix = options.get("awslogs-stream-prefix")
        if not prefix:
            return None  # without a prefix the stream name is not derivable
        stream = f"{prefix}/{name}/{task_arn.rsplit('/', 1)[-1]}"
        return (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logsV2:log-groups/log-group/{_console_quote(options['awslogs-group'])}"
            f"/log-events/{_console_quote(stream)}"
        )


# ECS's messages name nothing ("Cluster not found.", "Unable to describe task
# definition."): the call's label names what the step asked for.
def _on_cluster(operation: str, spec: Any) -> str:
    return f"ECS {operation} (cluster '{spec.cluster}')"


def _run_task(spec: Any) -> str:
    return f"ECS RunTask (task definition '{spec.task_definition}', cluster '{spec.cluster}')"


def _token_tasks(exc: BaseException) -> list[str]:
    """The tasks a RunTask refused with ConflictException names: its clientToken (the
    attempt's, which no other attempt uses) started them already, under parameters that
    differ. They are the attempt's work (none: another conflict)."""
    response: Any = getattr(exc, "response", None)
    if not is_api_error(exc) or not isinstance(response, dict):
        return []
    if (response.get("Error") or {}).get("Code") != "ConflictException":
        return []
    return [str(arn) for arn in response.get("resourceIds") or []]


def _console_quote(text: str) -> str:
    """The CloudWatch console's own escaping of names in its URL fragment."""
    return quote(quote(text, safe=""), safe="").replace("%25", "$25")


def _container_override(container: str | None, rendered: Any) -> dict[str, Any] | None:
    if container is None:
        return None
    override: dict[str, Any] = {"name": container}
    command = rendered.get("command")
    if command is not None:
        override["command"] = [as_text(c) for c in command]
    environment = rendered.get("environment") or {}
    if environment:
        override["environment"] = [{"name": k, "value": as_text(v)} for k, v in environment.items()]
    return override if len(override) > 1 else None


def _strategy(provider: Any) -> list[dict[str, Any]]:
    if isinstance(provider, str):
        return [{"capacityProvider": provider, "weight": 1}]
    return [{"capacityProvider": p.provider, "weight": p.weight, "base": p.base} for p in provider]
