"""``PodiumStack``: the ready-made stack that ``infra/app.py`` deploys.

It only composes and grants: one ``Podium`` construct plus the outputs the CLI reads.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from constructs import Construct

from .code import SKIP_BUNDLING_CONTEXT
from .podium import Podium
from .props import PodiumProps

CONTEXT_PREFIX = "podium:"
# Read by infra/app.py (the stack's name), not a prop.
STACK_NAME_CONTEXT = CONTEXT_PREFIX + "stackName"


class PodiumStack(Stack):
    """Attributes: ``podium`` (the construct)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        podium: PodiumProps | None = None,
        **stack_options: Any,
    ) -> None:
        stack_options.setdefault(
            "description", "Podium: serverless workflow orchestrator (Lambda, DynamoDB, SQS)"
        )
        super().__init__(scope, construct_id, **stack_options)
        self.podium = Podium(self, "Podium", props=podium)
        self.podium.add_outputs()


def _csv(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


# context key (after "podium:") -> (PodiumProps field, parser)
_CONTEXT_FIELDS: Mapping[str, tuple[str, Any]] = {
    "namePrefix": ("name_prefix", str),
    "architecture": ("architecture", str),
    "alarmEmail": ("alarm_email", str),
    "allowedFunctionArns": ("allowed_function_arns", _csv),
    "ecsClusterArns": ("ecs_cluster_arns", _csv),
    "ecsTaskDefinitionArns": ("ecs_task_definition_arns", _csv),
    "ecsPassRoleArns": ("ecs_pass_role_arns", _csv),
    "batchJobQueueArns": ("batch_job_queue_arns", _csv),
    "batchJobDefinitionArns": ("batch_job_definition_arns", _csv),
    "glueJobNames": ("glue_job_names", _csv),
    "sfnStateMachineArns": ("sfn_state_machine_arns", _csv),
    "httpHosts": ("http_hosts", _csv),
    "secretNames": ("secret_names", _csv),
    "triggerBucketNames": ("trigger_bucket_names", _csv),
    "triggerEventBuses": ("trigger_event_buses", _csv),
    "runRetentionDays": ("run_retention_days", lambda v: _days(v)),
    "payloadExpirationDays": ("payload_expiration_days", lambda v: _days(v)),
    "removalPolicy": ("removal_policy", lambda v: _removal(v)),
    "pointInTimeRecovery": ("point_in_time_recovery", lambda v: _flag(v)),
    "tracing": ("tracing", lambda v: _flag(v)),
    "logLevel": ("log_level", str),
    "workBatchSize": ("work_batch_size", lambda v: _whole(v)),
    "advanceBatchSize": ("advance_batch_size", lambda v: _whole(v)),
    "sweepIntervalMinutes": ("sweep_interval", lambda v: Duration.minutes(_whole(v))),
    "alarms": ("alarms", lambda v: _flag(v)),
    "dashboard": ("dashboard", lambda v: _flag(v)),
}

# Every ``podium:`` key something reads: the props above, and the flags read elsewhere.
KNOWN_CONTEXT_KEYS: tuple[str, ...] = (
    STACK_NAME_CONTEXT,
    *(CONTEXT_PREFIX + key for key in _CONTEXT_FIELDS),
    SKIP_BUNDLING_CONTEXT,
)


def _days(value: object) -> int | None:
    """A whole number of days, or ``none`` (keep runs forever)."""
    text = str(value).strip()
    if text.lower() == "none":
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"a whole number of days, or none; got {text[:40]!r}")
    return int(text)


def _whole(value: object) -> int:
    text = str(value).strip()  # also an int from cdk.json; a JSON true is refused
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"a whole number; got {text[:40]!r}")
    return int(text)


def _flag(value: object) -> bool:
    """``true`` or ``false`` (a JSON boolean in cdk.json, or a ``-c`` string)."""
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise ValueError(f"true or false; got {str(value)[:40]!r}")


def _removal(value: object) -> RemovalPolicy:
    # Not SNAPSHOT: PodiumProps refuses it (DynamoDB tables do not take it).
    names = ("RETAIN", "DESTROY", "RETAIN_ON_UPDATE_OR_DELETE")
    text = str(value).strip().upper()
    if text not in names:
        raise ValueError(f"one of {', '.join(n.lower() for n in names)}; got {str(value)[:40]!r}")
    return RemovalPolicy[text]


def props_from_context(scope: Construct) -> PodiumProps:
    """PodiumProps from ``-c podium:<key>=<value>`` (or cdk.json "context"), so the
    ready stack deploys without editing code. Keys: see ``_CONTEXT_FIELDS``.

    A ``podium:`` key nothing reads is refused: a misspelt one would else deploy the
    stack without the setting asked for, as a misspelt prop is a TypeError."""
    _refuse_unknown_keys(scope)
    values: dict[str, Any] = {}
    given: list[str] = []
    for key, (field_name, parse) in _CONTEXT_FIELDS.items():
        raw = scope.node.try_get_context(CONTEXT_PREFIX + key)
        if raw is not None and raw != "":
            try:
                values[field_name] = parse(raw)
            except ValueError as exc:  # a message naming the key, not a traceback
                raise ValueError(f"-c {CONTEXT_PREFIX}{key}: {exc}") from None
            given.append(key)
    try:
        return PodiumProps(**values)
    except ValueError as exc:  # a value that parses but the props refuse (retention 0)
        raise ValueError(_in_context_words(str(exc), given)) from None


def _in_context_words(message: str, given: list[str]) -> str:
    """A PodiumProps refusal as the operator typed it: ``-c podium:<key>: ...``, with
    the props' field names as context keys and ``None`` as ``none``. The keys it names
    are those of the fields the message mentions, else every key given (the defaults
    all deploy, so a given value is what was refused)."""

    def mentions(key: str, text: str) -> bool:
        return re.search(rf"\b{_CONTEXT_FIELDS[key][0]}\b", text) is not None

    named = [key for key in given if mentions(key, message)] or given
    body = message
    for key, (field_name, _) in _CONTEXT_FIELDS.items():
        body = re.sub(rf"\b{field_name}\b", CONTEXT_PREFIX + key, body)
    body = re.sub(r"\bNone\b", "none", body)
    if not named:
        return body
    # "-c podium:runRetentionDays: must be >= 1", not the key twice.
    body = body.removeprefix(CONTEXT_PREFIX + named[0]).lstrip(" :")
    return f"{', '.join(f'-c {CONTEXT_PREFIX}{key}' for key in named)}: {body}"


def _refuse_unknown_keys(scope: Construct) -> None:
    given = sorted(k for k in scope.node.get_all_context() if k.startswith(CONTEXT_PREFIX))
    unknown = [key for key in given if key not in KNOWN_CONTEXT_KEYS]
    if not unknown:
        return
    named = []
    for key in unknown:
        close = difflib.get_close_matches(key, KNOWN_CONTEXT_KEYS, n=1)
        named.append(f"-c {key}" + (f" (did you mean {close[0]}?)" if close else ""))
    raise ValueError(
        f"{', '.join(named)}: no such context key; known: {', '.join(KNOWN_CONTEXT_KEYS)}"
    )
