"""``PodiumStack``: the ready-made stack that ``infra/app.py`` deploys.

It only composes and grants: one ``Podium`` construct plus the outputs the CLI reads.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy, Stack
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
    "removalPolicy": ("removal_policy", lambda v: _removal(v)),
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


def _removal(value: object) -> RemovalPolicy:
    names = ("RETAIN", "DESTROY", "SNAPSHOT", "RETAIN_ON_UPDATE_OR_DELETE")
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
    for key, (field_name, parse) in _CONTEXT_FIELDS.items():
        raw = scope.node.try_get_context(CONTEXT_PREFIX + key)
        if raw is not None and raw != "":
            try:
                values[field_name] = parse(raw)
            except ValueError as exc:  # a message naming the key, not a traceback
                raise ValueError(f"-c {CONTEXT_PREFIX}{key}: {exc}") from None
    return PodiumProps(**values)


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
