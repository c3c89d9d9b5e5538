"""State-change events of external work (ECS tasks, Batch jobs, Glue job runs, Step
Functions executions) routed back to the attempts that started them.

The events handler hands every EventBridge event here first. An event of a known
source and detail-type names its attempt through what the backend set at start (the
attempt key in ECS ``startedBy``, a Batch job tag, a Glue run argument, a Step
Functions execution name); it becomes one ``done`` message on the event queue, whose
handler applies it to the attempt if that attempt is still running (a duplicate or
late event finds it closed and does nothing). Events of work Podium did not start are
counted (``ExternalEventsUnmatched``) and dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from podium.core.engine.external import (
    batch_attempt_key,
    key_of_dotted,
    key_of_started_by,
    parse_key,
)
from podium.service import messages
from podium.service.context import Services

log = logging.getLogger("podium.external_events")

# What of an event's detail the runtimes read (the rest stays out of the message).
_ECS_FIELDS = (
    "taskArn",
    "lastStatus",
    "desiredStatus",
    "stopCode",
    "stoppedReason",
    "startedBy",
    "group",
    "stoppedAt",
)
_ECS_CONTAINER_FIELDS = ("name", "exitCode", "reason", "lastStatus")


@dataclass(frozen=True)
class Route:
    kind: str  # the step type the event completes
    key_of: Callable[[Services, Mapping[str, Any]], str | None]
    trim: Callable[[Mapping[str, Any]], dict[str, Any]]


def _ecs_key(ctx: Services, detail: Mapping[str, Any]) -> str | None:
    return key_of_started_by(str(detail.get("startedBy") or ""))


def _ecs_trim(detail: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: detail[k] for k in _ECS_FIELDS if k in detail}
    containers = detail.get("containers")
    out["containers"] = [
        {k: c[k] for k in _ECS_CONTAINER_FIELDS if k in c}
        for c in (containers if isinstance(containers, list) else [])
        if isinstance(c, Mapping)
    ]
    return out


def _sfn_key(ctx: Services, detail: Mapping[str, Any]) -> str | None:
    return key_of_dotted(str(detail.get("name") or ""))


def _batch_key(ctx: Services, detail: Mapping[str, Any]) -> str | None:
    # The whole key from the job's parameters: its tag cuts a key over 256 characters,
    # and a cut key could name another attempt.
    return batch_attempt_key(detail)


def _batch_trim(detail: Mapping[str, Any]) -> dict[str, Any]:
    """What ``batch_job_outcome`` reads, as a poll's DescribeJobs gives it: who ended the
    job (``isTerminated``, ``isCancelled``: an operator's stop, not the code's exit 143),
    and the exit codes of a single-container job (``container``), of a multi-container
    one (``ecsProperties`` / ``taskProperties``), and of its attempts."""
    out = {k: detail[k] for k in _BATCH_FIELDS if k in detail}
    out.update(_batch_exits(detail))
    ecs = detail.get("ecsProperties")
    if isinstance(ecs, Mapping) and "taskProperties" in ecs:
        out["ecsProperties"] = {"taskProperties": _batch_tasks(ecs["taskProperties"])}
    attempts = detail.get("attempts")
    if isinstance(attempts, list):
        out["attempts"] = [_batch_exits(a) for a in attempts if isinstance(a, Mapping)]
    return out


_BATCH_FIELDS = ("jobId", "jobName", "status", "statusReason", "isTerminated", "isCancelled")
_BATCH_CONTAINER_FIELDS = ("exitCode", "reason", "logStreamName")


def _batch_exits(part: Mapping[str, Any]) -> dict[str, Any]:
    """The containers of a job, or of one of its attempts: ``container`` and
    ``taskProperties``, each container cut to its exit code, reason and log stream."""
    out: dict[str, Any] = {}
    container = part.get("container")
    if isinstance(container, Mapping):
        out["container"] = _batch_container(container)
    if "taskProperties" in part:
        out["taskProperties"] = _batch_tasks(part["taskProperties"])
    return out


def _batch_tasks(tasks: Any) -> list[dict[str, Any]]:
    trimmed = []
    for task in tasks if isinstance(tasks, list) else []:
        containers = task.get("containers") if isinstance(task, Mapping) else None
        listed = containers if isinstance(containers, list) else []
        trimmed.append(
            {"containers": [_batch_container(c) for c in listed if isinstance(c, Mapping)]}
        )
    return trimmed


def _batch_container(container: Mapping[str, Any]) -> dict[str, Any]:
    return {k: container[k] for k in _BATCH_CONTAINER_FIELDS if k in container}


def _glue_key(ctx: Services, detail: Mapping[str, Any]) -> str | None:
    backend = ctx.jobs.get("glue_job")
    key_of_run = getattr(backend, "key_of_run", None)
    job, run = detail.get("jobName"), detail.get("jobRunId")
    if key_of_run is None or not job or not run:
        return None
    key = key_of_run(str(job), str(run))
    return str(key) if key else None


def _glue_trim(detail: Mapping[str, Any]) -> dict[str, Any]:
    return {k: detail[k] for k in ("jobName", "jobRunId", "state", "message") if k in detail}


def _sfn_trim(detail: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("executionArn", "name", "status", "error", "cause")
    out = {k: detail[k] for k in fields if k in detail}
    output = detail.get("output")
    details = detail.get("outputDetails")
    included = details.get("included", True) if isinstance(details, Mapping) else True
    # A big output would overflow the message: the runtime reads it from the execution.
    # Measured as the queue message carries it (JSON, ASCII-escaped: a non-ASCII
    # character is up to 12 bytes, a quote 2), not in characters.
    if output is not None and included and len(json.dumps(output)) <= MAX_EVENT_OUTPUT_BYTES:
        out["output"] = output
    return out


# Well under a queue message's 256 KiB, with the rest of the detail (its ARNs, a cause
# of up to 32 Ki characters) beside it.
MAX_EVENT_OUTPUT_BYTES = 64 * 1024

ROUTES: dict[tuple[str, str], Route] = {
    ("aws.ecs", "ECS Task State Change"): Route("ecs_task", _ecs_key, _ecs_trim),
    ("aws.batch", "Batch Job State Change"): Route("batch_job", _batch_key, _batch_trim),
    ("aws.glue", "Glue Job State Change"): Route("glue_job", _glue_key, _glue_trim),
    ("aws.states", "Step Functions Execution Status Change"): Route(
        "sfn_execution", _sfn_key, _sfn_trim
    ),
}


def add_route(source: str, detail_type: str, route: Route) -> None:
    ROUTES[(source, detail_type)] = route


def route(ctx: Services, event: Mapping[str, Any]) -> bool:
    """True when the event is a state change of external work an attempt of ours
    started, now on its way to that attempt (as a ``done`` message). The caller still
    offers the event to the triggers: a user's event pattern may match it too."""
    found = ROUTES.get((str(event.get("source")), str(event.get("detail-type"))))
    if found is None:
        return False
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        log.warning("%s event without a detail, dropped (id %s)", found.kind, event.get("id"))
        return False
    key = found.key_of(ctx, detail)
    parsed = parse_key(key) if key else None
    if parsed is None:
        ctx.metrics.count("ExternalEventsUnmatched")
        return False
    run, step, attempt = parsed
    event_body = {"kind": found.kind, "detail": found.trim(detail)}
    done = messages.Done(run, step, attempt, event_body)
    ctx.event_queue.send(messages.encode(done))
    ctx.metrics.count("ExternalEvents")
    return True
